"""Every public callable of the package has at least one bad-input row, in the test file of the
module it comes from (tests/test_<module>.py keeps a table BAD whose keys start with its name)."""

import importlib
import inspect

import fmhelpers as fm
from fmhelpers import exercises, widgets


def _public_callables() -> dict[str, str]:
    """{name: the module it is defined in}, for everything public: the top level, the sliders and
    the exercise checks."""
    found = {}
    for name in fm.__all__:
        obj = getattr(fm, name)
        if callable(obj) and not inspect.ismodule(obj):
            found[name] = obj.__module__.split(".")[-1]
    for module in (widgets, exercises):
        for name, obj in vars(module).items():
            if callable(obj) and getattr(obj, "__module__", "") == module.__name__ and not name.startswith("_") \
                    and (module is widgets or name.startswith("check_")):
                found[name] = module.__name__.split(".")[-1]
    return found


def test_every_public_callable_has_a_bad_input_row_in_its_modules_test_file():
    missing = []
    for name, module in sorted(_public_callables().items()):
        test_file = importlib.import_module(f"test_{module.lstrip('_')}")
        rows = getattr(test_file, "BAD", {})
        if not any(key == name or key.startswith(name + " ") for key in rows):
            missing.append(f"{name} (from {module}): no row in tests/test_{module.lstrip('_')}.py")
    assert missing == []
