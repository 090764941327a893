"""Run .tflite files on the arm64 build of LiteRT without a phone: QEMU's user-mode
emulator (Debian's ``qemu-user``) runs an arm64 Python 3.11 from Debian's arm64 packages
with the ``manylinux_2_27_aarch64`` wheel of ``ai-edge-litert``.

    python -m converters.emulate build            # the runtime under .cache/arm64 (a no-op once built)
    python -m converters.emulate cpus             # the CPUs it can emulate
    python -m converters.emulate run --cpu cortex-a53 -- -c "import ai_edge_litert"
    python -m converters.emulate kernels MODEL.tflite --cpu cortex-a76 [--weight-cache | --no-delegate]

The runtime is made from package names only:

- ``sysroot/``: arm64 ``.deb`` files unpacked with ``dpkg-deb -x`` (Python 3.11 and the C++
  runtime, dependencies resolved by apt). apt runs on a private state directory
  (``apt/``: its own sources list, package lists and dpkg status) with ``APT::Architecture``
  arm64, so the host's dpkg architectures and package state are never touched.
- ``site/``: ``pip install --target site --platform manylinux_2_27_aarch64
  --only-binary=:all: ai-edge-litert==2.3.0 numpy==<the host's version>``.
- ``cpus/<cpu>/``: QEMU's ``-L`` root for one emulated CPU: links to the sysroot's
  directories plus ``proc/cpuinfo`` describing that CPU. QEMU 7.2 passes the host's x86
  ``/proc/cpuinfo`` through, and XNNPACK's CPU detection (cpuinfo) crashes on it; QEMU
  looks paths up under ``-L`` first, so the arm64 file is read instead. Its MIDR (the
  micro-architecture XNNPACK tunes kernels for) and feature flags are read from the
  emulated CPU itself (``mrs midr_el1`` and the auxiliary vector), not typed in.

Only outputs, the kernels chosen and memory mean anything under emulation; time does not
(docs/footprint-schema.md, "Emulated arm64").
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / ".cache" / "arm64"
LITERT = "ai-edge-litert==2.3.0"
PLATFORM = "manylinux_2_27_aarch64"
PYTHON = "3.11"
# What apt resolves the sysroot from (with their dependencies): the interpreter, and the
# C++ runtime the LiteRT wheel links against.
ROOT_PACKAGES = ("python3.11", "libstdc++6")
QEMU = "qemu-aarch64"

# The CPUs QEMU 7.2 emulates that we accept, with what they stand for. `max` is refused:
# it advertises SME, and int8 models then gave wrong results (499.8 instead of 1.864).
CPUS = {
    "cortex-a35": "ARMv8.0-A, in-order, no dot product",
    "cortex-a53": "ARMv8.0-A, in-order, no dot product, no LSE atomics (the little cores of many phones up to 2018)",
    "cortex-a57": "ARMv8.0-A, out-of-order, no dot product",
    "cortex-a72": "ARMv8.0-A, out-of-order, no dot product",
    "cortex-a76": "ARMv8.2-A, out-of-order, SDOT/UDOT and LSE atomics (the big cores of phones from 2019)",
    "neoverse-n1": "ARMv8.2-A with SDOT/UDOT (Cortex-A76's server sibling)",
    "max,sme=off": "everything QEMU 7.2 implements but SME: I8MM (SMMLA), BF16, SVE2",
}
REFUSED = {"max": "advertises SME, with which int8 results were wrong here; use max,sme=off"}

# AT_HWCAP / AT_HWCAP2 bit names as Linux's /proc/cpuinfo prints them (arch/arm64/kernel/cpuinfo.c).
HWCAP = ("fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc "
         "dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg").split()
HWCAP2 = ("dcpodp sve2 sveaes svepmull svebitperm svesha3 svesm4 flagm2 frint svei8mm svef32mm svef64mm "
          "svebf16 i8mm bf16 dgh rng bti mte ecv afp rpres mte3 sme smei16i64 smef64f64 smei8i32 smef16f32 "
          "smeb16f32 smef32f32 smefa64 wfxt ebf16 sveebf16").split()
AT_HWCAP, AT_HWCAP2 = 16, 26

# Run inside the emulated Python: the CPU's MIDR_EL1 (QEMU emulates Linux's user-space
# access to the ID registers, HWCAP_CPUID) and its HWCAP words.
_IDENTIFY = r"""
import ctypes, json, mmap
libc = ctypes.CDLL(None)
libc.getauxval.restype = ctypes.c_ulong
libc.getauxval.argtypes = [ctypes.c_ulong]
page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write((0xD5380000).to_bytes(4, "little") + (0xD65F03C0).to_bytes(4, "little"))  # mrs x0, midr_el1; ret
midr = ctypes.CFUNCTYPE(ctypes.c_uint64)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()
print(json.dumps({"midr": midr, "hwcap": libc.getauxval(16), "hwcap2": libc.getauxval(26)}))
"""


class EmulationError(RuntimeError):
    """The arm64 runtime is missing or cannot be built, or a CPU is not one we emulate."""


def check_cpu(cpu: str) -> str:
    """``cpu`` if it is one of CPUS, else EmulationError naming the ones there are."""
    if cpu in CPUS:
        return cpu
    reason = f" ({REFUSED[cpu]})" if cpu in REFUSED else ""
    raise EmulationError(f"unknown CPU {cpu!r}{reason}; emulated CPUs: {', '.join(CPUS)}")


def view_name(cpu: str) -> str:
    """The directory name of ``cpu``'s -L root (``max,sme=off`` -> ``max-sme-off``)."""
    return re.sub(r"[^a-z0-9-]+", "-", check_cpu(cpu))


# ---------------------------------------------------------------------------------------
# building


def _run(command, log, **kwargs) -> subprocess.CompletedProcess:
    log("+ " + " ".join(str(c) for c in command))
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise EmulationError(f"{' '.join(str(c) for c in command[:3])} ... failed ({done.returncode}):\n"
                             f"{(done.stderr or done.stdout)[-2000:]}")
    return done


def host_codename() -> str:
    text = pathlib.Path("/etc/os-release").read_text()
    match = re.search(r"^VERSION_CODENAME=\"?([a-z]+)\"?$", text, re.MULTILINE)
    if not match:
        raise EmulationError("cannot tell the host's Debian release (/etc/os-release has no VERSION_CODENAME)")
    return match.group(1)


def arm64_sources(codename: str, etc: pathlib.Path = pathlib.Path("/etc/apt")) -> str:
    """The host's Debian sources of its own release (``codename``, -updates, -security) as
    deb822 stanzas restricted to arm64: the same mirrors and keys, another architecture."""
    stanzas = []
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        for block in re.split(r"\n\s*\n", path.read_text()):
            fields = {}
            for line in block.splitlines():
                if line and not line.startswith("#") and ":" in line and not line[0].isspace():
                    key, value = line.split(":", 1)
                    fields[key.strip()] = value.strip()
            if fields.get("Enabled", "yes").lower() == "no" or "deb" not in fields.get("Types", "").split():
                continue
            fields.update(Types="deb", Architectures="arm64")
            stanzas.append(fields)
    one_line = etc / "sources.list"
    if one_line.is_file():
        for line in one_line.read_text().splitlines():
            match = re.match(r"^deb\s+(?:\[(?P<options>[^\]]*)\]\s+)?(?P<uri>\S+)\s+(?P<suite>\S+)\s+(?P<comp>.+)$",
                             line.strip())
            if match:
                fields = {"Types": "deb", "URIs": match["uri"], "Suites": match["suite"],
                          "Components": match["comp"].strip(), "Architectures": "arm64"}
                signed = re.search(r"signed-by=(\S+)", match["options"] or "")
                if signed:
                    fields["Signed-By"] = signed.group(1)
                stanzas.append(fields)
    ours = [s for s in stanzas if any(suite.split("/")[0].split("-")[0] == codename
                                      for suite in s.get("Suites", "").split())]
    if not ours:
        raise EmulationError(f"no Debian {codename} sources in {etc} to take the arm64 packages from")
    for stanza in ours:
        stanza["Suites"] = " ".join(s for s in stanza["Suites"].split() if s.split("/")[0].split("-")[0] == codename)
    return "\n".join("".join(f"{k}: {v}\n" for k, v in s.items()) for s in ours)


def private_apt(state: pathlib.Path, sources: str, architecture: str | None = "arm64") -> list[str]:
    """An apt state of its own under ``state`` (the host's apt is not touched) reading the
    deb822 ``sources``; returns the apt-get options that use it (``architecture``: the
    packages' architecture, None for source packages)."""
    for sub in ("etc/sources.list.d", "etc/preferences.d", "etc/apt.conf.d", "state/lists/partial",
                "cache/archives/partial"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "state" / "status").touch()
    (state / "etc" / "sources.list.d" / f"{architecture or 'source'}.sources").write_text(sources)
    arch = [f"-oAPT::Architecture={architecture}", f"-oAPT::Architectures::={architecture}"] if architecture else []
    return [f"-oDir::Etc={state / 'etc'}", f"-oDir::State={state / 'state'}", f"-oDir::Cache={state / 'cache'}",
            f"-oDir::State::status={state / 'state' / 'status'}", *arch, "-oDebug::NoLocking=1",
            "-oAcquire::Languages=none"]


def build_sysroot(directory: pathlib.Path, log=print) -> dict:
    """Download the arm64 packages Python 3.11 needs and unpack them into
    ``directory/sysroot``; returns {package: version}."""
    options = private_apt(directory / "apt", arm64_sources(host_codename()))
    _run(["apt-get", *options, "-qq", "update"], log)
    depends = _run(["apt-cache", *options, "depends", "--recurse", "--no-recommends", "--no-suggests",
                    "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *ROOT_PACKAGES], log)
    packages = sorted({line.strip() for line in depends.stdout.splitlines()
                       if line.strip() and not line.startswith(" ") and not line.startswith("<")})
    debs = directory / "debs"
    shutil.rmtree(debs, ignore_errors=True)
    debs.mkdir(parents=True)
    _run(["apt-get", *options, "-qq", "download", *packages], log, cwd=debs)
    sysroot = directory / "sysroot"
    shutil.rmtree(sysroot, ignore_errors=True)
    sysroot.mkdir()
    versions = {}
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg-deb", "-x", deb, sysroot], log)
        name, version = deb.name.split("_")[:2]
        versions[name] = version.replace("%3a", ":")
    shutil.rmtree(debs)
    if not (sysroot / "usr" / "bin" / f"python{PYTHON}").is_file():
        raise EmulationError(f"the arm64 packages did not bring usr/bin/python{PYTHON}")
    return versions


def build_site(directory: pathlib.Path, numpy: str, log=print) -> None:
    """The arm64 wheels of LiteRT and numpy (and their dependencies) in ``directory/site``."""
    site = directory / "site"
    shutil.rmtree(site, ignore_errors=True)
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
          "--target", site, "--platform", PLATFORM, "--python-version", PYTHON, "--implementation", "cp",
          "--only-binary=:all:", LITERT, f"numpy=={numpy}"], log)


def cpuinfo(midr: int, hwcap: int, hwcap2: int, processors: int) -> str:
    """/proc/cpuinfo as arm64 Linux prints it for ``processors`` identical cores."""
    features = [name for bit, name in enumerate(HWCAP) if hwcap >> bit & 1]
    features += [name for bit, name in enumerate(HWCAP2) if hwcap2 >> bit & 1]
    core = (f"BogoMIPS\t: 50.00\nFeatures\t: {' '.join(features)}\nCPU implementer\t: 0x{midr >> 24 & 0xFF:02x}\n"
            f"CPU architecture: 8\nCPU variant\t: 0x{midr >> 20 & 0xF:x}\nCPU part\t: 0x{midr >> 4 & 0xFFF:03x}\n"
            f"CPU revision\t: {midr & 0xF}\n\n")
    return "".join(f"processor\t: {i}\n{core}" for i in range(processors))


def identify(cpu: str, directory: pathlib.Path = DEFAULT_DIR) -> dict:
    """{"midr", "hwcap", "hwcap2"} of the emulated ``cpu``, read inside the emulator."""
    done = run_python(cpu, ["-S", "-c", _IDENTIFY], directory=directory, timeout=120, site=False)
    if done.returncode != 0:
        raise EmulationError(f"cannot identify {cpu} under emulation: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_views(directory: pathlib.Path, log=print) -> dict:
    """``cpus/<cpu>/`` per CPU: relative links to the sysroot's top-level entries and a
    ``proc/cpuinfo`` of that CPU; returns {cpu: its identity and cpuinfo features}."""
    sysroot = directory / "sysroot"
    described = {}
    for cpu in CPUS:
        view = directory / "cpus" / view_name(cpu)
        shutil.rmtree(view, ignore_errors=True)
        (view / "proc").mkdir(parents=True)
        for entry in sysroot.iterdir():
            (view / entry.name).symlink_to(os.path.relpath(entry, view))
        # a placeholder until the CPU is identified: Python itself never reads it
        (view / "proc" / "cpuinfo").write_text(cpuinfo(0, 0, 0, os.cpu_count() or 1))
        ident = identify(cpu, directory)
        text = cpuinfo(ident["midr"], ident["hwcap"], ident["hwcap2"], os.cpu_count() or 1)
        (view / "proc" / "cpuinfo").write_text(text)
        features = re.search(r"^Features\t: (.*)$", text, re.MULTILINE).group(1)
        described[cpu] = {"midr": f"0x{ident['midr']:08x}", "features": features}
        log(f"{cpu}: MIDR 0x{ident['midr']:08x}, features {features}")
    return described


def qemu_version() -> str:
    if not shutil.which(QEMU):
        raise EmulationError(f"{QEMU} not found: install Debian's qemu-user (`make system-packages`)")
    done = subprocess.run([QEMU, "--version"], capture_output=True, text=True)
    return done.stdout.splitlines()[0].strip()


MANIFEST = "manifest.json"


def wanted(numpy: str | None = None) -> dict:
    """What a runtime built now would be made of; a built one with the same is kept."""
    return {"root_packages": list(ROOT_PACKAGES), "litert": LITERT, "platform": PLATFORM, "python": PYTHON,
            "numpy": numpy or importlib.metadata.version("numpy"), "cpus": list(CPUS), "qemu": qemu_version(),
            "layout": 1}


def manifest(directory: pathlib.Path = DEFAULT_DIR) -> dict | None:
    try:
        return json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def build(directory: pathlib.Path = DEFAULT_DIR, force: bool = False, log=print) -> dict:
    """Build the runtime in ``directory`` unless one made of the same is there (a no-op
    then); returns its manifest. Built in a sibling directory and moved into place, so an
    interrupted build leaves no half runtime behind."""
    directory = pathlib.Path(directory).resolve()
    want = wanted()
    have = manifest(directory)
    if not force and have and {k: have.get(k) for k in want} == want:
        log(f"arm64 runtime up to date in {directory}")
        return have
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f"{directory.name}.building-", dir=directory.parent))
    try:
        packages = build_sysroot(staging, log)
        build_site(staging, want["numpy"], log)
        cpus = build_views(staging, log)
        built = {**want, "packages": packages, "cpu_views": cpus,
                 "site": sorted(p.name for p in (staging / "site").glob("*.dist-info"))}
        (staging / MANIFEST).write_text(json.dumps(built, indent=2) + "\n")
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            directory.rename(old)
        staging.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"arm64 runtime built in {directory}")
    return built


# ---------------------------------------------------------------------------------------
# running


def require(directory: pathlib.Path = DEFAULT_DIR) -> dict:
    """The built runtime's manifest, or EmulationError saying how to build it."""
    have = manifest(directory)
    if have is None or not (directory / "site").is_dir():
        raise EmulationError(f"no arm64 runtime in {directory}: run `make arm64-runtime`")
    return have


def python_command(cpu: str, argv, directory: pathlib.Path = DEFAULT_DIR, qemu_args=()) -> list[str]:
    """The command that runs the arm64 Python with ``argv`` on the emulated ``cpu``
    (``qemu_args``: more options of QEMU's, such as logging)."""
    view = pathlib.Path(directory).resolve() / "cpus" / view_name(cpu)
    return [QEMU, "-L", str(view), "-cpu", cpu, *qemu_args, str(view / "usr" / "bin" / f"python{PYTHON}"),
            *[str(a) for a in argv]]


def environment(directory: pathlib.Path = DEFAULT_DIR, site: bool = True) -> dict:
    """The host environment less what would send the arm64 Python to the host's files,
    plus the arm64 wheels and this repository on its path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "QEMU_"))}
    env.update(PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", TF_CPP_MIN_LOG_LEVEL="2")
    if site:
        env["PYTHONPATH"] = os.pathsep.join([str(pathlib.Path(directory).resolve() / "site"), str(ROOT)])
    return env


def run_python(cpu: str, argv, directory: pathlib.Path = DEFAULT_DIR, timeout: float | None = 600,
               site: bool = True, env: dict | None = None, qemu_args=()) -> subprocess.CompletedProcess:
    """Run the arm64 Python on the emulated ``cpu`` (niced: timings mean nothing here and
    the host's cores are shared). subprocess.TimeoutExpired after ``timeout`` s."""
    if site:
        require(directory)
    command = python_command(cpu, argv, directory, qemu_args)
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**environment(directory, site), **(env or {})}, start_new_session=True,
                             preexec_fn=lambda: os.nice(10))
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, 9)
        child.communicate()
        raise
    # QEMU's own messages can start with a NUL byte ("\0qemu: uncaught target signal 4 ...")
    return subprocess.CompletedProcess(command, child.returncode, stdout, stderr.replace("\0", ""))


# ---------------------------------------------------------------------------------------
# the footprint probe under emulation (`rt-keras footprint --emulate CPU`)

# Timings of the probe that say nothing about a phone when the CPU is emulated: left out.
TIMINGS = ("load_ms", "latency_ms", "real_time_factor", "chunk_latency_ms")
TIMINGS_NOTE = ("left out: under emulation time measures QEMU's translation on the host, not the emulated CPU; "
                "outputs, the kernels XNNPACK picks and memory carry over, speed does not")
# Wall-clock limit of one emulated probe: QEMU runs a small model's inference in seconds and
# the paper-size ones in minutes.
PROBE_TIMEOUT_SECONDS = 1800


def device(cpu: str, directory: pathlib.Path = DEFAULT_DIR) -> dict:
    """The footprint report's ``device`` for a run on the emulated ``cpu``."""
    import platform

    have = require(directory)
    view = (have.get("cpu_views") or {}).get(cpu, {})
    return {"kind": "emulated", "model": f"QEMU user mode -cpu {cpu} on {platform.node()}",
            "cpu": f"{cpu} (emulated; MIDR {view.get('midr')}; features: {view.get('features')})",
            "abi": "aarch64", "os": f"{platform.system()} {platform.release()} ({platform.machine()} host kernel)",
            "python": (have.get("packages") or {}).get(f"python{PYTHON}-minimal"), "emulator": have.get("qemu")}


def footprint_runtime(path, seconds: float, sample_rate: int, threads: int, cpu: str,
                      streaming_state: list | None = None, weight_cache: bool = False,
                      directory: pathlib.Path = DEFAULT_DIR, timeout: float = PROBE_TIMEOUT_SECONDS) -> dict:
    """The ``runtime`` section of a footprint report, measured by the same probe
    (converters/footprint_probe.py) in the arm64 Python on the emulated ``cpu``: one
    inference, no warm-up (time means nothing here), the timings removed (TIMINGS) and
    ``emulated`` saying so. A crash (SIGILL included) is reported, not raised."""
    from converters.runner import child_failure

    check_cpu(cpu)
    args = ["-m", "converters.footprint_probe", os.path.abspath(path), "--seconds", seconds,
            "--sample-rate", sample_rate, "--runs", 1, "--warmup", 0, "--threads", threads]
    if streaming_state:
        args += ["--streaming-state", json.dumps(streaming_state)]
    if weight_cache:
        args.append("--weight-cache")
    emulated = {"cpu": cpu, "emulator": require(directory).get("qemu"), "timings": TIMINGS_NOTE}
    failed = {"status": "failed", "threads": threads, "audio_seconds": seconds, "runs": 1, "warmup": 0,
              "emulated": emulated}
    try:
        done = run_python(cpu, args, directory, timeout)
    except subprocess.TimeoutExpired:
        return {**failed, "error": f"runtime probe did not finish in {timeout} s under emulation"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        error = f"runtime probe failed under emulation ({child_failure(done.returncode, done.stderr)})"
        if "compiled with lse enabled" in done.stderr:
            error += ("; the wheel's GPU accelerator library needs ARMv8.1 atomics: on ARMv8.0 CPUs use the "
                      "Interpreter, or remove ai_edge_litert/libLiteRtWebGpuAccelerator.so (docs/results.md)")
        return {**failed, "error": error}
    result = json.loads(lines[-1])
    for key in TIMINGS:
        result.pop(key, None)
    result["emulated"] = emulated
    return result


# ---------------------------------------------------------------------------------------
# which XNNPACK kernels ran, and the guest's heap (`python -m converters.emulate kernels`)

LIBRARY = "libpywrap_litert_common.so"  # the wheel's library holding XNNPACK, with its symbol table

# Runs in the arm64 Python: load the model, run it once on the probe's test signal, and say
# how much the guest's own heap grew (glibc mallinfo2 of the emulated process: QEMU's memory
# is the host's and is not in it) and where LIBRARY is mapped.
_KERNEL_PROBE = r"""
import ctypes, json, os, sys, tempfile
import numpy as np
from converters.footprint_probe import compiled_model, compiled_runner, test_audio
from ai_edge_litert.interpreter import Interpreter
FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in FIELDS.split()]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
def heap():
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd
path, samples, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
x = test_audio(samples, 16000)
heap_bytes = {"before_load": heap()}
cache = None
if how == "weight-cache":
    cache = os.path.join(tempfile.mkdtemp(), "model.xnnpack_cache")
    model = compiled_model(path, 1, cache)
    heap_bytes["after_load"] = heap()
    y = compiled_runner(model, samples)(x)
else:
    from ai_edge_litert.interpreter import OpResolverType
    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if how == "no-delegate" else OpResolverType.AUTO
    model = Interpreter(model_path=path, num_threads=1, experimental_op_resolver_type=resolver)
    heap_bytes["after_load"] = heap()
    (detail,) = model.get_input_details()
    model.resize_tensor_input(detail["index"], [1, samples])
    model.allocate_tensors()
    heap_bytes["after_allocate"] = heap()
    model.set_tensor(detail["index"], x)
    model.invoke()
    y = model.get_tensor(model.get_output_details()[0]["index"])
heap_bytes["after_run"] = heap()
maps = []
for line in open("/proc/self/maps"):
    if line.rstrip().endswith("/LIBRARY"):
        span, _, offset = line.split()[:3]
        start, end = (int(v, 16) for v in span.split("-"))
        maps.append([start, end, int(offset, 16)])
print(json.dumps({"heap_bytes": heap_bytes, "maps": maps, "output": np.asarray(y).tolist(),
                  "weight_cache_bytes": os.path.getsize(cache) if cache and os.path.exists(cache) else None}))
""".replace("LIBRARY", LIBRARY)


def function_symbols(path) -> list[tuple[int, int, str]]:
    """(address, size, name) of every function in an ELF64 little-endian file's symbol
    table, sorted (a small reader: no binutils needed)."""
    import struct

    data = pathlib.Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise EmulationError(f"{path}: not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    symbols = []
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, entsize):
            name, info, _, shndx, value, length = struct.unpack_from("<IBBHQQ", data, at)
            if info & 0xF == 2 and shndx and value:  # STT_FUNC, defined
                end = data.index(b"\0", strings + name)
                symbols.append((value, length, data[strings + name:end].decode("utf-8", "replace")))
    return sorted(symbols)


def translated_blocks(log_text: str) -> list[int]:
    """The first guest address of every block QEMU translated (``-d in_asm`` log): the code
    that ran at least once."""
    starts, expect = [], False
    for line in log_text.splitlines():
        if line.startswith("IN:"):
            expect = True
        elif expect and line.startswith("0x"):
            starts.append(int(line.split(":", 1)[0], 16))
            expect = False
    return starts


def kernels_run(blocks, maps, symbols, pattern: str = "ukernel") -> dict[str, int]:
    """{function: translated blocks in it} for the functions of LIBRARY whose names hold
    ``pattern`` (XNNPACK's microkernels are named ``xnn_<types>_<op>_ukernel_<tile>__<isa>``)."""
    import bisect

    if not maps:
        raise EmulationError(f"{LIBRARY} was not mapped in the emulated process")
    base = min(start - offset for start, _, offset in maps if offset == 0) if any(m[2] == 0 for m in maps) \
        else min(start for start, _, _ in maps)
    end = max(stop for _, stop, _ in maps)
    addresses = [s[0] for s in symbols]
    found = {}
    for block in blocks:
        if not base <= block < end:
            continue
        i = bisect.bisect_right(addresses, block - base) - 1
        if i >= 0 and block - base < addresses[i] + max(symbols[i][1], 1) and pattern in symbols[i][2]:
            found[symbols[i][2]] = found.get(symbols[i][2], 0) + 1
    return dict(sorted(found.items()))


def kernels(model, cpu: str, samples: int = 16000, weight_cache: bool = False,
            directory: pathlib.Path = DEFAULT_DIR, timeout: float = PROBE_TIMEOUT_SECONDS,
            no_delegate: bool = False) -> dict:
    """Run ``model`` once on the emulated ``cpu`` under QEMU's translation log and say
    which XNNPACK microkernels ran, how much the guest's heap grew at each stage
    (``heap_bytes``; the packed weights of the Interpreter are in it) and, with
    ``weight_cache``, the cache file's size (the packed weights, each constant once).
    ``no_delegate``: the Interpreter with LiteRT's builtin kernels only (no XNNPACK, so
    nothing is packed): the Interpreter's heap less this one is what XNNPACK adds."""
    check_cpu(cpu)
    with tempfile.TemporaryDirectory(prefix="rt-keras-kernels-") as scratch:
        log = pathlib.Path(scratch) / "in_asm.log"
        done = run_python(cpu, ["-c", _KERNEL_PROBE, os.path.abspath(model), samples,
                                "weight-cache" if weight_cache else "no-delegate" if no_delegate else
                                "interpreter"], directory, timeout,
                          qemu_args=["-d", "in_asm", "-D", str(log)])
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            from converters.runner import child_failure

            raise EmulationError(f"{model} on {cpu}: {child_failure(done.returncode, done.stderr)}")
        result = json.loads(lines[-1])
        blocks = translated_blocks(log.read_text(errors="replace"))
    symbols = function_symbols(pathlib.Path(directory) / "site" / "ai_edge_litert" / LIBRARY)
    base = result["heap_bytes"]["before_load"]
    return {"model": str(model), "cpu": cpu, "runtime": "CompiledModel, XNNPACK weight cache in a file"
            if weight_cache else "Interpreter, builtin kernels only" if no_delegate else "Interpreter",
            "samples": samples,
            "kernels": kernels_run(blocks, result.pop("maps"), symbols),
            "heap_growth_bytes": {k: v - base for k, v in result["heap_bytes"].items() if k != "before_load"},
            "weight_cache_bytes": result["weight_cache_bytes"], "output": result["output"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=DEFAULT_DIR, help="where the runtime lives")
    commands = parser.add_subparsers(dest="command", required=True)
    build_p = commands.add_parser("build", help="build the arm64 runtime (a no-op when it is up to date)")
    build_p.add_argument("--force", action="store_true")
    commands.add_parser("cpus", help="the CPUs that can be emulated")
    kernels_p = commands.add_parser("kernels", help="the XNNPACK microkernels a model runs on an emulated CPU, "
                                    "and the guest heap's growth")
    kernels_p.add_argument("model")
    kernels_p.add_argument("--cpu", required=True)
    kernels_p.add_argument("--samples", type=int, default=16000, help="audio samples of the one run (default 1 s)")
    kernels_p.add_argument("--weight-cache", action="store_true", help="CompiledModel with a file weight cache")
    kernels_p.add_argument("--no-delegate", action="store_true",
                           help="the Interpreter with LiteRT's builtin kernels only (no XNNPACK: nothing packed)")
    run_p = commands.add_parser("run", help="run the arm64 Python on an emulated CPU")
    run_p.add_argument("--cpu", required=True)
    run_p.add_argument("args", nargs=argparse.REMAINDER, help="arguments of python (after --)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build(args.dir, args.force, log=lambda line: print(line, file=sys.stderr, flush=True))
        elif args.command == "kernels":
            result = kernels(args.model, args.cpu, args.samples, args.weight_cache, args.dir,
                             no_delegate=args.no_delegate)
            result.pop("output")
            print(json.dumps(result, indent=2))
        elif args.command == "cpus":
            for cpu, what in CPUS.items():
                print(f"{cpu:<12}  {what}")
        else:
            check_cpu(args.cpu)
            os.nice(10)
            require(args.dir)
            rest = args.args[1:] if args.args[:1] == ["--"] else args.args
            command = python_command(args.cpu, rest, args.dir)
            os.execvpe(command[0], command, environment(args.dir))
    except EmulationError as error:
        print(f"emulate: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
