// SPDX-License-Identifier: Apache-2.0
//! Generates the wire types from proto/trace.proto, each able to print itself in the proto3
//! JSON mapping (docs/PROTOCOL.md, "JSON"), and links libnng.
//!
//! The serde attributes come from trace.proto's own descriptors, field by field, so that a field
//! added there prints without a change here: its proto name, left out at its default, and the
//! proto3 form of the types JSON has no native form for (64-bit integers as strings, bytes as
//! base64, floats with NaN and the infinities as strings, Timestamps in RFC 3339; see
//! src/json.rs), enums by name.
use std::env;
use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{self, Command};

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};

fn fail(what: &str) -> ! {
    eprintln!(
        "nerrf-client build: {}; install protobuf-compiler and libprotobuf-dev \
         (scripts/install-deps), or set PROTOC",
        what
    );
    process::exit(1);
}

/// The FileDescriptorSet of proto (imports included), as protoc writes it.
fn descriptors(proto: &Path, includes: &[&Path], out: &Path) -> FileDescriptorSet {
    let protoc = prost_build::protoc_from_env();
    let mut cmd = Command::new(&protoc);
    cmd.arg("--include_imports").arg("-o").arg(out);
    for i in includes {
        cmd.arg("-I").arg(i);
    }
    match cmd.arg(proto).status() {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("{} failed on {} ({})", protoc.display(), proto.display(), s)),
        Err(e) => fail(&format!("cannot run {}: {}", protoc.display(), e)),
    }
    let bytes = fs::read(out).unwrap_or_else(|e| fail(&format!("{}: {}", out.display(), e)));
    FileDescriptorSet::decode(&bytes[..])
        .unwrap_or_else(|e| fail(&format!("{}: not a descriptor set: {}", out.display(), e)))
}

/// Whether values of this type need the proto3 form (json::proto3) rather than serde's own.
fn special(f: &FieldDescriptorProto) -> bool {
    matches!(
        f.r#type(),
        Type::Int64
            | Type::Uint64
            | Type::Sint64
            | Type::Fixed64
            | Type::Sfixed64
            | Type::Float
            | Type::Double
            | Type::Bytes
    ) || f.type_name() == ".google.protobuf.Timestamp"
}

struct Gen<'a> {
    cfg: &'a mut prost_build::Config,
    /// json::enum_N functions, one per enum type, writing its values' names.
    enums: String,
    enum_names: Vec<String>,
    all: &'a FileDescriptorSet,
}

impl Gen<'_> {
    fn message_type(&self, name: &str) -> Option<&DescriptorProto> {
        fn find<'d>(ds: &'d [DescriptorProto], prefix: &str, name: &str) -> Option<&'d DescriptorProto> {
            ds.iter().find_map(|d| {
                let full = format!("{}.{}", prefix, d.name());
                if full == name {
                    Some(d)
                } else {
                    find(&d.nested_type, &full, name)
                }
            })
        }
        self.all.file.iter().find_map(|f| {
            let prefix = if f.package().is_empty() { String::new() } else { format!(".{}", f.package()) };
            find(&f.message_type, &prefix, name)
        })
    }

    /// The name of the function that writes the enum type `name` by value names.
    fn enum_fn(&mut self, name: &str) -> String {
        if let Some(i) = self.enum_names.iter().position(|n| n == name) {
            return format!("crate::json::enum_{}", i);
        }
        let e = self.all.file.iter().find_map(|f| {
            let prefix = format!(".{}", f.package());
            let mut all: Vec<(String, &prost_types::EnumDescriptorProto)> =
                f.enum_type.iter().map(|e| (format!("{}.{}", prefix, e.name()), e)).collect();
            let mut stack: Vec<(String, &DescriptorProto)> =
                f.message_type.iter().map(|m| (format!("{}.{}", prefix, m.name()), m)).collect();
            while let Some((p, m)) = stack.pop() {
                all.extend(m.enum_type.iter().map(|e| (format!("{}.{}", p, e.name()), e)));
                stack.extend(m.nested_type.iter().map(|n| (format!("{}.{}", p, n.name()), n)));
            }
            all.into_iter().find(|(n, _)| n == name).map(|(_, e)| e.clone())
        });
        let e = e.unwrap_or_else(|| fail(&format!("enum {} is not in the descriptors", name)));
        let i = self.enum_names.len();
        self.enum_names.push(name.to_string());
        let _ = writeln!(self.enums, "/// {}\npub(crate) fn enum_{}_name(v: i32) -> Option<&'static str> {{\n    match v {{", name, i);
        for v in &e.value {
            let _ = writeln!(self.enums, "        {} => Some({:?}),", v.number(), v.name());
        }
        let _ = writeln!(
            self.enums,
            "        _ => None,\n    }}\n}}\npub(crate) fn enum_{i}<T: EnumValues, S: serde::Serializer>(v: &T, s: S) \
             -> Result<S::Ok, S::Error> {{\n    v.names(enum_{i}_name, s)\n}}",
            i = i
        );
        format!("crate::json::enum_{}", i)
    }

    fn message(&mut self, prefix: &str, m: &DescriptorProto) {
        let path = format!("{}.{}", prefix, m.name());
        if m.options.as_ref().map_or(false, |o| o.map_entry()) {
            return; // a map's entries are printed by the map field
        }
        if !m.oneof_decl.is_empty() && m.field.iter().any(|f| f.proto3_optional != Some(true)
            && f.oneof_index.is_some())
        {
            fail(&format!(
                "{} has a oneof, which build.rs does not map to JSON yet: teach it (serde flatten \
                 on the field, the variants renamed)",
                path
            ));
        }
        self.cfg.message_attribute(&path, "#[derive(serde::Serialize)]");
        for f in &m.field {
            let field = format!("{}.{}", path, f.name());
            let mut attrs = vec![format!("rename = {:?}", f.name())];
            let entry = if f.r#type() == Type::Message && f.label() == Label::Repeated {
                self.message_type(f.type_name()).filter(|d| d.options.as_ref().map_or(false, |o| o.map_entry())).cloned()
            } else {
                None
            };
            let singular_message = f.r#type() == Type::Message && f.label() != Label::Repeated;
            let float = matches!(f.r#type(), Type::Float | Type::Double);
            attrs.push(if singular_message || f.proto3_optional() {
                "skip_serializing_if = \"Option::is_none\"".into()
            } else if float && f.label() != Label::Repeated {
                "skip_serializing_if = \"crate::json::skip_float\"".into()
            } else {
                "skip_serializing_if = \"crate::json::skip\"".into()
            });
            let value = entry.as_ref().map_or(f, |e| &e.field[1]);
            if let Some(e) = &entry {
                if e.field[0].r#type() == Type::Bool {
                    fail(&format!("{}: a map with bool keys, which serde_json cannot print", field));
                }
            }
            if value.r#type() == Type::Enum {
                let name = self.enum_fn(value.type_name());
                attrs.push(format!("serialize_with = {:?}", name));
            } else if special(value) {
                attrs.push("serialize_with = \"crate::json::proto3\"".into());
            } else if value.r#type() == Type::Message && value.type_name().starts_with(".google.protobuf.") {
                fail(&format!(
                    "{}: {} has no JSON form in src/json.rs yet (only Timestamp has)",
                    field,
                    value.type_name()
                ));
            }
            self.cfg.field_attribute(&field, format!("#[serde({})]", attrs.join(", ")));
        }
        for n in &m.nested_type {
            self.message(&path, n);
        }
    }
}

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("run by cargo"));
    let proto_dir = root.join("../../proto");
    let proto = proto_dir.join("trace.proto");
    // google/protobuf/timestamp.proto comes with Debian's libprotobuf-dev.
    let wkt_dir =
        env::var_os("NERRF_PROTO_INCLUDE").map_or_else(|| "/usr/include".into(), PathBuf::from);
    println!("cargo:rerun-if-changed={}", proto.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NERRF_PROTO_INCLUDE");

    let fds_path = out.join("trace.fds");
    let fds = descriptors(&proto, &[&proto_dir, &wkt_dir], &fds_path);
    let mut cfg = prost_build::Config::new();
    // Ordered maps, so the loss counters print in the same order every time.
    cfg.btree_map(["."]);
    let mut gen = Gen { cfg: &mut cfg, enums: String::new(), enum_names: Vec::new(), all: &fds };
    for f in fds.file.iter().filter(|f| f.name() == "trace.proto") {
        for m in &f.message_type {
            gen.message(&format!(".{}", f.package()), m);
        }
    }
    let enums = std::mem::take(&mut gen.enums);
    fs::write(out.join("json_enums.rs"), enums)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {}", out.display(), e)));
    cfg.file_descriptor_set_path(&fds_path).skip_protoc_run();
    if let Err(e) = cfg.compile_protos(&[&proto], &[&proto_dir, &wkt_dir]) {
        fail(&format!("cannot generate code from {}: {}", proto.display(), e));
    }
    println!("cargo:rustc-link-lib=nng");
}
