// SPDX-License-Identifier: Apache-2.0
//! Generates the wire types from proto/trace.proto and links libnng.
use std::env;
use std::path::PathBuf;
use std::process;

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"));
    let proto_dir = root.join("../../proto");
    let proto = proto_dir.join("trace.proto");
    // google/protobuf/timestamp.proto comes with Debian's libprotobuf-dev.
    let wkt_dir =
        env::var_os("NERRF_PROTO_INCLUDE").map_or_else(|| "/usr/include".into(), PathBuf::from);
    println!("cargo:rerun-if-changed={}", proto.display());
    println!("cargo:rerun-if-env-changed=NERRF_PROTO_INCLUDE");

    let mut cfg = prost_build::Config::new();
    // Ordered maps, so the loss counters print in the same order every time.
    cfg.btree_map(["."]);
    if let Err(e) = cfg.compile_protos(&[&proto], &[&proto_dir, &wkt_dir]) {
        eprintln!(
            "nerrf-subscribe build: cannot generate code from {}: {}; install \
             protobuf-compiler and libprotobuf-dev (scripts/install-deps), or set PROTOC",
            proto.display(),
            e
        );
        process::exit(1);
    }
    println!("cargo:rustc-link-lib=nng");
}
