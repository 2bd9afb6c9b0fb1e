"""The shift controls of ToyCity: how far the target city sits from the source city.

CCDistill faces two shifts at once (docs/METHOD.md, section 1): the illumination shift (target day vs target
night) and the inherent dataset difference (source city vs target city: camera, city style,
what is on the street). `ShiftSettings` turns each into a number, 1 meaning today's ToyCity:

    settings = ShiftSettings(camera_shift=1.5, target_traffic=2.0)
    source, target = settings.cities()           # the two CityStyles the generator samples from
    generate_toycity("data/toycity-x", shift=settings)
    generate_toycity("data/toycity-hard", shift=shift_preset("hard", target_noise=2.0))

The settings derive new `CityStyle`s from SOURCE_CITY and TARGET_CITY; the default settings
give those two styles unchanged (equal objects, every float untouched), so a default ToyCity is
byte for byte what it was before these controls existed. "Shift" factors extrapolate the target
away from the source along their difference: 0 = the target takes the source's value, 1 =
today's target, 2 = twice today's difference.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache

from ccdistill.errors import DataError, InputError
from ccdistill.toycity.style import (
    RGB, SOURCE_CITY, TARGET_CITY, CameraStyle, CityStyle, Illumination, Palette, Range,
)

MIN_SKY = 1e-5  # sky keyframes are interpolated in log space: they must stay positive


def _control(default: float, low: float, high: float) -> float:
    """A dataclass field with its valid range (checked on construction, shown by the CLI and docs)."""
    return field(default=default, metadata={"range": (low, high)})


@dataclass(frozen=True)
class ShiftSettings:
    """The knobs of ToyCity's two domain shifts; the defaults are today's ToyCity.

    Attributes:
        target_night_gain: exposure × gain of the target camera at full night relative to day;
            lower = darker target nights, more of each crushed to black by the tone curve.
        target_noise: factor on the target camera's sensor noise (shot and read); it shows at
            night, where the gain amplifies it.
        camera_shift: how far the target camera is from the source camera, in focal length
            (wide angle), horizon, mounting height, white balance, tone curve, saturation,
            vignetting and blur. 0 = the source camera's values, 2 = twice today's difference.
        style_shift: how far the target city's colours (surfaces, and the sky's day, dusk and
            night keyframes) are from the source's; colour sets move by their mean difference and
            keep their variety. 0 = the source's mean colours, 2 = twice today's difference.
        source_traffic, target_traffic: factor on the number of moving cars and persons and on
            the chance of a parked car per kerb slot in that city (the street itself is unchanged;
            for the target, day and night traffic alike).
    """

    target_night_gain: float = _control(TARGET_CITY.camera.night_gain, 2.0, 64.0)
    target_noise: float = _control(1.0, 0.0, 10.0)
    camera_shift: float = _control(1.0, 0.0, 2.0)
    style_shift: float = _control(1.0, 0.0, 2.0)
    source_traffic: float = _control(1.0, 0.0, 3.0)
    target_traffic: float = _control(1.0, 0.0, 3.0)

    def __post_init__(self) -> None:
        for control in fields(self):
            check_control(control.name, getattr(self, control.name))
            # floats, so that 2 and 2.0 write the same manifest
            object.__setattr__(self, control.name, float(getattr(self, control.name)))

    def cities(self) -> tuple[CityStyle, CityStyle]:
        """(source, target) city styles; (SOURCE_CITY, TARGET_CITY) for the default settings."""
        return _cities(self)

    def to_manifest(self) -> dict[str, float] | None:
        """What manifest.json records: None for the default settings (whose manifest is the one
        ToyCity always wrote), else every control, so the manifest alone regenerates the data."""
        return None if self == ShiftSettings() else asdict(self)

    @classmethod
    def from_manifest(cls, manifest: dict) -> ShiftSettings:
        """The settings a ToyCity manifest was generated with (no "shift" entry: the defaults)."""
        recorded = manifest.get("shift") or {}
        known = {control.name for control in fields(cls)}
        if not isinstance(recorded, dict) or set(recorded) - known:
            raise DataError(f"ToyCity manifest has an unknown shift entry {recorded!r}; it was written by a newer "
                            "ccdistill: update ccdistill or regenerate the data with this one.")
        return cls(**recorded)


def option_name(name: str) -> str:
    """The `ccdistill data toy` option of a control: target_noise -> --target-noise."""
    return "--" + name.replace("_", "-")


def check_control(name: str, value: float, option: str | None = None) -> None:
    """InputError unless `value` is a finite number in the control's range; `option` is the name
    the message uses (the CLI passes its --spelling)."""
    control = next((c for c in fields(ShiftSettings) if c.name == name), None)
    if control is None:
        raise InputError(f"{name} is not a ToyCity shift control; use one of "
                         f"{', '.join(c.name for c in fields(ShiftSettings))}.")
    low, high = control.metadata["range"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise InputError(f"{option or name} must be a number in [{low:g}, {high:g}], got {value!r}; pass a value "
                         f"in that range ({control.default:g} is today's ToyCity).")


# The preset names `ccdistill data toy --preset` accepts. "hard": a larger inherent shift (a
# wider, warmer, softer target camera; target colours 1.75 times as far from the source's; twice
# the target traffic) and a darker, noisier target night.
PRESETS: dict[str, ShiftSettings] = {
    "default": ShiftSettings(),
    "hard": ShiftSettings(target_night_gain=12.0, target_noise=5.0, camera_shift=1.6, style_shift=1.75,
                          target_traffic=2.0),
}


def shift_preset(name: str = "default", **overrides: float) -> ShiftSettings:
    """A named preset with some controls overridden (the CLI's --preset plus explicit options)."""
    if name not in PRESETS:
        raise InputError(f"ToyCity preset must be one of {', '.join(PRESETS)}, got {name!r}.")
    for control, value in overrides.items():
        check_control(control, value)  # an unknown name is an InputError here, not replace()'s TypeError
    return replace(PRESETS[name], **overrides)


def _away(target: float, source: float, shift: float, low: float = -math.inf, high: float = math.inf) -> float:
    """target + (shift − 1)·(target − source), kept in [low, high]: exactly `target` at shift 1
    (adding 0.0 changes no float), the source value at 0."""
    return min(max(target + (shift - 1.0) * (target - source), low), high)


def _away_range(target: Range, source: Range, shift: float, low: float = -math.inf) -> Range:
    return (_away(target[0], source[0], shift, low), _away(target[1], source[1], shift, low))


def _mean(colours: tuple[RGB, ...]) -> RGB:
    return tuple(sum(channel) / len(colours) for channel in zip(*colours))  # type: ignore[return-value]


def _move_colours(target, source, shift: float):
    """Move a colour (RGB) or a colour set (tuple of RGB) by (shift − 1) times the difference
    of the set means, so the target keeps its variety while its mean moves; clipped to [0, 1]."""
    single = not isinstance(target[0], tuple)
    targets, sources = ((target,), (source,)) if single else (target, source)
    offset = [(shift - 1.0) * (t - s) for t, s in zip(_mean(targets), _mean(sources))]
    moved = tuple(tuple(min(max(c + o, 0.0), 1.0) for c, o in zip(colour, offset)) for colour in targets)
    return moved[0] if single else moved


def _style(shift: float) -> tuple[Palette, Illumination]:
    source, target = SOURCE_CITY, TARGET_CITY
    names = [colour.name for colour in fields(Palette)]
    palette = replace(target.palette, **{
        name: _move_colours(getattr(target.palette, name), getattr(source.palette, name), shift) for name in names
    })
    # The day, dusk and night sky keyframes move one by one (they are a gradient over time, not a colour set).
    sky = {
        name: tuple(tuple(_away(t, s, shift, MIN_SKY, 1.0) for t, s in zip(key_t, key_s))
                    for key_t, key_s in zip(getattr(target.illumination, name), getattr(source.illumination, name)))
        for name in ("sky_zenith", "sky_horizon")
    }
    return palette, replace(target.illumination, **sky)


def _camera(settings: ShiftSettings) -> tuple[CameraStyle, dict]:
    """The target's photometric camera and its geometric intrinsics (LayoutPrior fields)."""
    shift, source, target = settings.camera_shift, SOURCE_CITY, TARGET_CITY
    s, t = source.camera, target.camera
    camera = replace(
        t,
        exposure=_away(t.exposure, s.exposure, shift, 0.1),
        white_balance=tuple(_away(a, b, shift, 0.1) for a, b in zip(t.white_balance, s.white_balance)),
        gamma=_away(t.gamma, s.gamma, shift, 1.0),
        black_level=_away(t.black_level, s.black_level, shift, 0.0, 0.2),
        saturation=_away(t.saturation, s.saturation, shift, 0.0),
        vignetting=_away(t.vignetting, s.vignetting, shift, 0.0, 0.95),  # corners keep 1 − v of the light
        blur=_away(t.blur, s.blur, shift, 0.0, 2.0),  # the 3-tap kernel's centre weight stays >= 0
        night_gain=settings.target_night_gain,
        shot_noise=t.shot_noise * settings.target_noise,
        read_noise=t.read_noise * settings.target_noise,
    )
    ts, ss = target.layout, source.layout
    # Focal length in log space: a wider angle divides the focal length, it does not subtract from it.
    focal = tuple(a * (a / b) ** (shift - 1.0) for a, b in zip(ts.focal, ss.focal))
    geometry = {"focal": focal, "horizon": _away_range(ts.horizon, ss.horizon, shift, 0.2),
                "camera_height": _away_range(ts.camera_height, ss.camera_height, shift, 0.5)}
    return camera, geometry


@lru_cache(maxsize=8)
def _cities(settings: ShiftSettings) -> tuple[CityStyle, CityStyle]:
    """`ShiftSettings.cities`, once per settings (every scene of a generation asks)."""
    source = replace(SOURCE_CITY, layout=replace(SOURCE_CITY.layout, traffic_density=settings.source_traffic))
    palette, illumination = _style(settings.style_shift)
    camera, geometry = _camera(settings)
    layout = replace(TARGET_CITY.layout, **geometry, traffic_density=settings.target_traffic)
    target = replace(TARGET_CITY, palette=palette, illumination=illumination, camera=camera, layout=layout)
    return source, target
