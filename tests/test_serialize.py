"""to_dict / from_dict: JSON-safe, exact round trips, and strict on untrusted input."""

import json

import pytest

import cyclr


def module_level_scale(x):
    return 1.0 / x


def test_dict_is_json_and_reads_back():
    s = cyclr.chain((cyclr.triangular2(0.001, 0.006, 2000, shape="welch"), 8000),
                    cyclr.one_cycle(0.01, 5000).momentum_schedule(0.85, 0.95))
    d = s.to_dict()
    assert d["version"] == 1 and d["type"] == "chain"
    assert cyclr.from_dict(json.loads(json.dumps(d))) == s


def test_custom_scale_fn_by_import_path_is_opt_in():
    s = cyclr.cyclic(0.01, 0.1, 10, scale_fn=module_level_scale)
    d = s.to_dict()
    assert d["scale_fn"] == f"{__name__}:module_level_scale"
    with pytest.raises(ValueError, match="allow_imports=True"):
        cyclr.from_dict(d)
    assert cyclr.from_dict(d, allow_imports=True) == s


def test_unsaveable_scale_fn_is_a_clear_error():
    s = cyclr.cyclic(0.01, 0.1, 10, scale_fn=lambda x: 1.0)
    with pytest.raises(ValueError, match="module-level function"):
        s.to_dict()


GOOD = cyclr.triangular(0.001, 0.006, 2000).to_dict()


@pytest.mark.parametrize("data, exc, match", [
    ([], TypeError, "must be a dict, got list"),
    ({**GOOD, "version": 2}, ValueError, "version must be 1 .* got 2"),
    ({k: v for k, v in GOOD.items() if k != "version"}, ValueError, "version must be 1"),
    ({**GOOD, "type": "rocket"}, ValueError, "type must be one of .* got 'rocket'"),
    ({**GOOD, "extra": 1}, ValueError, r"unknown keys \['extra'\]"),
    ({k: v for k, v in GOOD.items() if k != "max_lr"}, ValueError, r"missing keys \['max_lr'\]"),
    ({**GOOD, "max_lr": "0.1"}, TypeError, "cyclic.max_lr must be a number, got '0.1'"),
    ({**GOOD, "max_lr": True}, TypeError, "cyclic.max_lr must be a number"),
    ({**GOOD, "max_lr": -1.0}, ValueError, "max_lr must be >= 0"),
    ({**GOOD, "policy": "triangular3"}, ValueError, "policy must be one of"),
    ({**GOOD, "scale_fn": 5}, TypeError, "'module:qualname' string"),
    ({**GOOD, "scale_fn": "os:system"}, ValueError, "allow_imports=True"),
    ({"version": 1, "type": "chain", "segments": []}, TypeError, "non-empty list"),
    ({"version": 1, "type": "chain", "segments": [{"schedule": GOOD, "steps": 1.5}]},
     TypeError, r"segments\[0\].steps must be an int or null"),
    ({"version": 1, "type": "momentum", "schedule": cyclr.constant(0.1).to_dict(),
      "base_momentum": 0.8, "max_momentum": 0.9}, TypeError, "cyclic, one_cycle or cosine_restarts"),
])
def test_from_dict_rejects_bad_input(data, exc, match):
    with pytest.raises(exc, match=match):
        cyclr.from_dict(data)


def test_each_class_declares_its_type_and_fields_and_is_registered():
    from cyclr.schedules import Field, Schedule

    for cls in (cyclr.Cyclic, cyclr.OneCycle, cyclr.Momentum, cyclr.Constant, cyclr.Decay,
                cyclr.Exponential, cyclr.StepDecay, cyclr.Chain):
        assert Schedule.registry[cls.type_name] is cls
        values = vars(Field).values()
        assert all(kind in values for kind in cls.fields.values())
    # The fields are the constructor's parameters, in order.
    s = cyclr.one_cycle(0.1, 100, three_phase=True)
    assert list(s.params) == list(type(s).fields)
    assert list(s.to_dict())[2:] == list(type(s).fields)


def test_a_second_class_cannot_claim_a_registered_type():
    from cyclr.schedules import Schedule

    with pytest.raises(TypeError, match="'cyclic' is already registered by Cyclic"):
        type("Impostor", (Schedule,), {"__slots__": (), "type_name": "cyclic"})


@pytest.mark.parametrize("fn", [None, 3, "module:name", lambda x: 1.0])
def test_function_path_refuses_what_has_no_import_path(fn):
    from cyclr.serialize import function_path

    with pytest.raises(ValueError, match="module-level function"):
        function_path(fn)


# A chain of triangular2 and a 1cycle momentum schedule, pickled (protocol 4) by cyclr
# 0.1.0, when every class lived in one cyclr/schedules.py.
PICKLED_BY_0_1_0 = (
    b'\x80\x04\x95\x10\x02\x00\x00\x00\x00\x00\x00\x8c\x0fcyclr.schedules\x94\x8c\x08'
    b'_rebuild\x94\x93\x94h\x00\x8c\x05Chain\x94\x93\x94\x8c\x08segments\x94h\x02h\x00'
    b'\x8c\x06Cyclic\x94\x93\x94(\x8c\x07base_lr\x94G?PbM\xd2\xf1\xa9\xfc\x86\x94\x8c\x06'
    b'max_lr\x94G?x\x93t\xbcj~\xfa\x86\x94\x8c\tstep_size\x94M\xd0\x07\x86\x94\x8c\x0e'
    b'step_size_down\x94N\x86\x94\x8c\x06policy\x94\x8c\x0btriangular2\x94\x86\x94\x8c'
    b'\x05gamma\x94G?\xf0\x00\x00\x00\x00\x00\x00\x86\x94\x8c\x08scale_fn\x94N\x86\x94'
    b'\x8c\nscale_mode\x94\x8c\x05cycle\x94\x86\x94\x8c\x05shape\x94\x8c\x06linear\x94'
    b'\x86\x94t\x94\x86\x94R\x94M\x80>\x86\x94h\x02h\x00\x8c\x08Momentum\x94\x93\x94\x8c'
    b'\x08schedule\x94h\x02h\x00\x8c\x08OneCycle\x94\x93\x94(h\nG?\xb9\x99\x99\x99\x99'
    b'\x99\x9a\x86\x94\x8c\x0btotal_steps\x94Kd\x86\x94\x8c\tpct_start\x94G?\xd3333333'
    b'\x86\x94\x8c\x06anneal\x94\x8c\x03cos\x94\x86\x94\x8c\ndiv_factor\x94G@9\x00\x00'
    b'\x00\x00\x00\x00\x86\x94\x8c\x10final_div_factor\x94G@\xc3\x88\x00\x00\x00\x00\x00'
    b'\x86\x94\x8c\x0bthree_phase\x94\x89\x86\x94t\x94\x86\x94R\x94\x86\x94\x8c\r'
    b'base_momentum\x94G?\xeb333333\x86\x94\x8c\x0cmax_momentum\x94G?\xeeffffff\x86\x94'
    b'\x87\x94\x86\x94R\x94N\x86\x94\x86\x94\x86\x94\x85\x94\x86\x94R\x94.')


def test_pickles_of_the_earlier_single_module_layout_still_load():
    import pickle

    expected = cyclr.chain((cyclr.triangular2(0.001, 0.006, 2000), 16000),
                           cyclr.one_cycle(0.1, 100).momentum_schedule(0.85, 0.95))
    loaded = pickle.loads(PICKLED_BY_0_1_0)
    assert loaded == expected
    assert loaded.array(20_000).tolist() == expected.array(20_000).tolist()
    assert pickle.loads(pickle.dumps(loaded)) == expected
