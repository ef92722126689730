"""Bundles the built libptycho.so into the package, so the installed binding
finds the library it was installed with.  Where from, first found:
$PTYCHO_LIBRARY, ../build/libptycho.so (this checkout's build), then the
libdir of `pkg-config ptycho` (an installed library)."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def find_library():
    tried = []
    env = os.environ.get("PTYCHO_LIBRARY")
    if env:
        tried.append(env)
    tried.append(os.path.join(HERE, "..", "build", "libptycho.so"))
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", "ptycho"], capture_output=True, text=True,
                                check=True).stdout.strip()
        tried.append(os.path.join(libdir, "libptycho.so"))
    except (OSError, subprocess.CalledProcessError):
        pass
    for path in tried:
        if os.path.isfile(path):
            return os.path.realpath(path)
    raise SystemExit("ptycho: libptycho.so not found (looked at: %s). Build it first (./scripts/build.sh build), "
                     "install it (cmake --install build), or set PTYCHO_LIBRARY to its path." % ", ".join(tried))


class build_py_with_library(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "ptycho", "libptycho.so")
        shutil.copyfile(find_library(), target)


setup(cmdclass={"build_py": build_py_with_library})
