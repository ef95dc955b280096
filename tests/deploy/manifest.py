#!/usr/bin/python3
"""The security-relevant fields of deploy/daemonset.yaml, and how it fits the
image (deploy/Containerfile) and the collector's unit:
 - collector: root, every capability dropped but exactly those
   nerrf-collector.service grants (tests/collector/caps proves them needed
   and enough), and it drops to the image's account;
 - encoder, publisher: that account, non-root, no capability;
 - all: no privilege, no escalation, read-only root filesystem, seccomp
   RuntimeDefault, hostPID (the programs report host pids);
 - /run/nerrf: one in-memory emptyDir, writable in all three, each stage's
   --rundir; the group of the shared volumes is the stages' group;
 - host paths: BTF and tracefs for the collector, the cgroup tree for the
   encoder, all read-only;
 - the publisher faces the network only over tls+tcp:// with a client CA;
 - the Containerfile is multi-stage on Debian 12 and builds with CI's scripts.
   manifest.py SRCDIR"""
import re
import sys

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml missing (apt-get install python3-yaml)")
    sys.exit(77)

src = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with open(f"{src}/deploy/daemonset.yaml", encoding="utf-8") as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
with open(f"{src}/deploy/Containerfile", encoding="utf-8") as f:
    containerfile = f.read()
with open(f"{src}/systemd/nerrf-collector.service.in", encoding="utf-8") as f:
    unit = f.read()

ds = [d for d in docs if d.get("kind") == "DaemonSet"]
if len(ds) != 1:
    sys.exit(f"FAIL: {len(ds)} DaemonSets in deploy/daemonset.yaml, want 1")
pod = ds[0]["spec"]["template"]["spec"]
ns = [d for d in docs if d.get("kind") == "Namespace"]
check(ns and ns[0]["metadata"]["name"] == ds[0]["metadata"]["namespace"],
      "the DaemonSet's namespace is not the one the manifest makes")

# The image's stage account.
m = re.search(r"useradd .*--uid (\d+) --gid (\S+).*\n?.* (\S+)\s*$", containerfile, re.M)
gm = re.search(r"groupadd --system --gid (\d+) (\S+)", containerfile)
if not m or not gm:
    sys.exit("FAIL: no groupadd/useradd of the stage account in deploy/Containerfile")
uid, gid, user = int(m[1]), int(gm[1]), m[3]
check(m[2] == gm[2], "the stage account's group is not the one groupadd makes")

containers = {c["name"]: c for c in pod["containers"]}
check(sorted(containers) == ["collector", "encoder", "publisher"],
      f"containers {sorted(containers)}, want collector, encoder, publisher")
check(pod.get("hostPID") is True, "hostPID is not true")
check(pod.get("hostNetwork") is not True, "hostNetwork: the publisher needs only its hostPort")
check(pod.get("automountServiceAccountToken") is False, "the pod gets an API token it never uses")
psc = pod.get("securityContext", {})
check(psc.get("fsGroup") == gid, f"fsGroup {psc.get('fsGroup')}, want the stages' group {gid}")

unit_caps = sorted(c.removeprefix("CAP_") for c in
                   re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M)[1].split())
check(len(unit_caps) == 5, f"the unit's capabilities are {unit_caps}")

for name, c in containers.items():
    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})
    seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {}))
    check(seccomp.get("type") == "RuntimeDefault", f"{name}: seccomp {seccomp}, want RuntimeDefault")
    check(sc.get("privileged") is not True, f"{name}: privileged")
    check(sc.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation not false")
    check(sc.get("readOnlyRootFilesystem") is True, f"{name}: root filesystem not read-only")
    check(caps.get("drop") == ["ALL"], f"{name}: capabilities.drop {caps.get('drop')}, want [ALL]")
    cmd = c.get("command", []) + c.get("args", [])
    check(cmd and cmd[0] == f"/usr/libexec/nerrf/nerrf-{name}", f"{name}: runs {cmd[:1]}")
    check("--rundir" in cmd and cmd[cmd.index("--rundir") + 1] == "/run/nerrf",
          f"{name}: --rundir is not /run/nerrf")
    run = [v for v in c.get("volumeMounts", []) if v["mountPath"] == "/run/nerrf"]
    check(len(run) == 1 and run[0]["name"] == "run" and not run[0].get("readOnly"),
          f"{name}: /run/nerrf is not the shared, writable 'run' volume")
    if name == "collector":
        check(sc.get("runAsUser") == 0, "collector: not root (it loads BPF programs)")
        check(sorted(caps.get("add", [])) == unit_caps,
              f"collector: adds {sorted(caps.get('add', []))}, the unit grants {unit_caps}")
        check(cmd[cmd.index("--user") + 1] == user if "--user" in cmd else False,
              f"collector: --user is not the image's account {user}")
    else:
        check(sc.get("runAsNonRoot") is True, f"{name}: runAsNonRoot not true")
        check(sc.get("runAsUser") == uid and sc.get("runAsGroup") == gid,
              f"{name}: runs as {sc.get('runAsUser')}:{sc.get('runAsGroup')}, "
              f"the collector hands rings to {uid}:{gid}")
        check(not caps.get("add"), f"{name}: adds capabilities {caps.get('add')}")

volumes = {v["name"]: v for v in pod["volumes"]}
run = volumes.get("run", {}).get("emptyDir")
check(run is not None and run.get("medium") == "Memory", "'run' is not an in-memory emptyDir")
host_mounts = {}
for name, c in containers.items():
    for vm in c.get("volumeMounts", []):
        v = volumes.get(vm["name"])
        check(v is not None, f"{name}: mounts the undefined volume {vm['name']}")
        if v and "hostPath" in v:
            check(vm.get("readOnly") is True, f"{name}: host path {v['hostPath']['path']} writable")
            host_mounts.setdefault(name, set()).add((v["hostPath"]["path"], vm["mountPath"]))
check(host_mounts.get("collector") == {("/sys/kernel/btf", "/sys/kernel/btf"),
                                       ("/sys/kernel/tracing", "/sys/kernel/tracing")},
      f"collector's host paths: {host_mounts.get('collector')}")
check(host_mounts.get("encoder") == {("/sys/fs/cgroup", "/host/sys/fs/cgroup")},
      f"encoder's host paths: {host_mounts.get('encoder')}")
check("publisher" not in host_mounts, "publisher mounts a host path")

pub = containers.get("publisher", {})
pcmd = pub.get("command", [])
listens = [pcmd[i + 1] for i, a in enumerate(pcmd) if a == "--listen"]
for url in listens:
    check(url.startswith(("ipc:///run/nerrf/", "tls+tcp://")), f"publisher listens on {url}")
if any(u.startswith("tls+tcp://") for u in listens):
    for opt in ("--tls-cert", "--tls-key", "--tls-ca"):
        check(opt in pcmd, f"publisher: tls+tcp:// without {opt}")

froms = re.findall(r"^FROM\s+(\S+)", containerfile, re.M)
check(len(froms) >= 2, "the Containerfile is not multi-stage")
check(all(re.search(r"debian:12(-slim)?$", f) for f in froms), f"base images {froms}, want Debian 12")
check(re.search(r"^RUN \./scripts/install-deps", containerfile, re.M) is not None,
      "the Containerfile does not install with scripts/install-deps")
check(re.search(r"\./scripts/build build ", containerfile) is not None,
      "the Containerfile does not build with scripts/build")

for f in failures:
    print("FAIL:", f)
if not failures:
    print(f"deploy/daemonset.yaml: {len(containers)} containers checked; collector adds {unit_caps}")
sys.exit(1 if failures else 0)
