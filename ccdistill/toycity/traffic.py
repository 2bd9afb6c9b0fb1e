"""Sample the dynamic part of a ToyCity scene (`Traffic`): cars in lanes and parking lanes,
persons on the sidewalks. Re-sampled for the night half of a target day/night pair."""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.draws import integers, palette_colour, uniform
from ccdistill.toycity.layout import PARKING_LANE_WIDTH, Car, Person, StreetLayout, Traffic
from ccdistill.toycity.style import CityStyle, Range

PERSON_HEIGHT: Range = (1.55, 1.92)
CAR_WIDTH: Range = (1.7, 1.95)
CAR_HEIGHT: Range = (1.4, 1.65)
CAR_MIN_GAP = 7.5  # metres between two cars in one lane
NEAREST_OBJECT = 4.0  # closer objects would fill the frame


def _scaled(bounds: tuple[int, int], density: float) -> tuple[int, int]:
    return round(bounds[0] * density), round(bounds[1] * density)


def sample_traffic(rng: np.random.Generator, city: CityStyle, layout: StreetLayout) -> Traffic:
    """Sample cars (in lanes and parking lanes) and persons (on sidewalks) for a layout."""
    prior, palette = city.layout, city.palette
    density = prior.traffic_density
    cars: list[Car] = []
    occupied: dict[float, list[float]] = {}

    def place(x: float, z: float) -> bool:
        taken = occupied.setdefault(round(x, 2), [])
        if any(abs(z - other) < CAR_MIN_GAP for other in taken):
            return False
        taken.append(z)
        return True

    for _ in range(integers(rng, _scaled(prior.moving_cars, density))):
        lane = float(rng.choice(layout.lane_centres))
        oncoming = lane < layout.oncoming_below
        # Keep the ego lane's first metres free (the camera car needs headway).
        nearest = 12.0 if abs(lane) < 0.5 else NEAREST_OBJECT + 2.0
        z = uniform(rng, (nearest, 80.0))
        x = lane + uniform(rng, (-0.3, 0.3))
        if place(lane, z):
            cars.append(Car(x, z, uniform(rng, CAR_WIDTH), uniform(rng, CAR_HEIGHT),
                            palette_colour(rng, palette.cars, 0.05), oncoming, False))
    for side, has_parking in zip((-1, 1), layout.parking):
        if not has_parking:
            continue
        x = (layout.road_left + PARKING_LANE_WIDTH / 2) if side < 0 else (layout.road_right - PARKING_LANE_WIDTH / 2)
        z = uniform(rng, (NEAREST_OBJECT + 1.0, 12.0))
        while z < 90.0:
            if rng.random() < (prior.parked_car_probability + 0.3) * density and not layout.in_crossing(z) and place(x, z):
                cars.append(Car(x, z, uniform(rng, CAR_WIDTH), uniform(rng, CAR_HEIGHT),
                                palette_colour(rng, palette.cars, 0.05), bool(rng.random() < 0.5), True))
            z += uniform(rng, (5.5, 8.0))
    persons = []
    for _ in range(integers(rng, _scaled(prior.persons, density))):
        side = int(rng.choice((-1, 1)))
        kerb = layout.kerb_x(side)
        x = kerb + side * uniform(rng, (0.5, max(layout.sidewalk[(side + 1) // 2] - 0.4, 0.6)))
        persons.append(Person(
            x, uniform(rng, (NEAREST_OBJECT + 1.0, 45.0)), uniform(rng, PERSON_HEIGHT),
            palette_colour(rng, palette.clothing, 0.1), palette_colour(rng, palette.clothing, 0.1),
            palette_colour(rng, palette.skin, 0.05), uniform(rng, (0.0, 0.35)),
        ))
    return Traffic(tuple(cars), tuple(persons))
