"""Buildings: the facades along both sides (windows, shops, cornice, plinth), the end walls seen
through gaps and side streets, and the distant skyline at the end of the street.

A facade is the vertical plane X = run.x, so each image column hits it at one depth
(`Camera.column_plane`); the facade's details follow in closed form from the hit's (z, y).
"""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.srgb import srgb_to_linear
from ccdistill.toycity.camera import FAR_GROUND
from ccdistill.toycity.canvas import END_WALL_SUN, FACADE_AMBIENT, FACADE_SUN, ID, N_CAMERA, N_NEG_X, N_POS_X, Drawing
from ccdistill.toycity.layout import FACADE_BUILDING, SHADOW_LATERAL, SKYLINE_DISTANCE, SKYLINE_TREES, FacadeRun
from ccdistill.toycity.textures import hash01, value_noise

FACADE_TEXTURE = 0.07
GROUND_FLOOR = 1.25  # ground floor height as a multiple of the floor height
WINDOW_SILL = 0.28  # window bottom as a fraction of the floor height
CORNICE = (0.7, 0.35)  # metres below the roof line: cornice band
PLINTH = 0.45  # metres: darker base of a facade
END_WALL_DEPTH = 25.0  # metres: depth of the buildings along a side street
SHOP_EMISSION = 1.0  # shop windows relative to living-room windows
SHOP_LIT_PROBABILITY = 0.5
GLASS_SHADE = (0.8, 1.25)  # random brightness range of window panes


def draw_skyline(d: Drawing) -> None:
    """Distant blocks at the end of the street, anchored to the camera (they are far)."""
    layout, cam = d.layout, d.camera
    x_far = (cam.u - cam.cx) * SKYLINE_DISTANCE / cam.f
    block = np.searchsorted(layout.skyline_edges, x_far)
    height = layout.skyline_height[block].copy()
    trees = layout.skyline_kind[block] == SKYLINE_TREES
    # Tree blocks get rounded tops: a half-ellipse across each block.
    edges = np.concatenate([[x_far[0] - 1.0], layout.skyline_edges, [x_far[-1] + 1.0]])
    left, right = edges[block], edges[block + 1]
    across = np.clip((x_far - left) / np.maximum(right - left, 1e-3), 0, 1)
    height = np.where(trees, height * 0.5 * np.sqrt(np.maximum(1 - (2 * across - 1) ** 2, 0)) + 3.0, height)
    zc = np.full(cam.width, SKYLINE_DISTANCE, dtype=np.float32)
    mask = cam.rows_between(zc, 0.0, height) & (d.canvas.Z > SKYLINE_DISTANCE + cam.z0)
    label = np.where(trees, ID["vegetation"], ID["building"]).astype(np.uint8)[None, :]
    d.canvas.set(mask, label, layout.skyline_colour[block][None], (x_far + cam.x0)[None, :], 0.0,
                 SKYLINE_DISTANCE + cam.z0, N_CAMERA, END_WALL_SUN, FACADE_AMBIENT)


def draw_facades(d: Drawing) -> None:
    """Both sides' facades, each after the end walls its gaps reveal."""
    for run in d.layout.facades:
        _end_walls(d, run)
        _facade(d, run)


def _end_walls(d: Drawing, run: FacadeRun) -> None:
    """Side walls facing the camera at the far end of gaps and side streets."""
    cam = d.camera
    zc_plane, valid = cam.column_plane(run.side, run.x)
    zw = zc_plane + cam.z0
    idx = run.index(zw)
    nxt = np.minimum(idx + 1, len(run.z1) - 1)
    open_gap = valid & (run.kind[idx] != FACADE_BUILDING) & (zw >= run.z0[idx]) & (zw < run.z1[idx])
    open_gap &= (run.kind[nxt] == FACADE_BUILDING) & (nxt > idx)
    if not open_gap.any():
        return
    zc_end = np.where(open_gap, run.z1[idx] - cam.z0, FAR_GROUND).astype(np.float32)
    x_hit = (cam.u - cam.cx) * zc_end / cam.f + cam.x0
    open_gap &= run.side * (x_hit - run.x) < END_WALL_DEPTH
    mask = cam.rows_between(np.where(open_gap, zc_end, np.inf), 0.0, run.height[nxt]) & open_gap[None, :]
    y = cam.hc - (cam.v[:, None] - cam.vh) * zc_end[None, :] / cam.f
    albedo = run.colour[nxt][None, :, :] * 0.9
    d.canvas.set(mask, ID["building"], albedo, x_hit[None, :], y, (zc_end + cam.z0)[None, :], N_CAMERA,
                 END_WALL_SUN, FACADE_AMBIENT)


def _facade(d: Drawing, run: FacadeRun) -> None:
    layout, cam = d.layout, d.camera
    zc, valid = cam.column_plane(run.side, run.x)
    zw = zc + cam.z0
    idx = run.index(zw)
    building = valid & (run.kind[idx] == FACADE_BUILDING) & (zw >= run.z0[idx]) & (zw < run.z1[idx])
    if not building.any():
        return
    mask = cam.rows_between(np.where(building, zc, np.inf), 0.0, run.height[idx]) & building[None, :]
    rows, cols = np.nonzero(mask)
    i = idx[cols]
    z = zw[cols]
    y = cam.hc - (cam.v[rows] - cam.vh) * zc[cols] / cam.f
    along = z - run.z0[i]
    length = run.z1[i] - run.z0[i]
    floor_h = run.floor_height[i]
    ground_floor = floor_h * GROUND_FLOOR
    spacing = run.window_spacing[i]
    column = np.floor(along / spacing)
    across = along / spacing - column
    storey = np.floor((y - ground_floor) / floor_h)
    up = (y - ground_floor) / floor_h - storey
    inside = (along > 1.0) & (along < length - 1.0)
    window = inside & (np.abs(across - 0.5) < run.window_width[i] / 2) & (up > WINDOW_SILL) \
        & (up < WINDOW_SILL + run.window_height[i]) & (y > ground_floor) & (y < run.height[i] - CORNICE[0])
    shop = inside & run.shop[i] & (y > PLINTH) & (y < ground_floor - 0.5) & (np.abs(across - 0.5) < 0.42)
    cornice = (y > run.height[i] - CORNICE[0]) & (y < run.height[i] - CORNICE[1])
    texture = 1.0 + FACADE_TEXTURE * value_noise(layout.noise_table, z * 0.6 + 17 * run.side, y * 0.6)
    shade = np.where(cornice, 0.8, np.where(y < PLINTH, 0.7, 1.0)) * texture
    albedo = run.colour[i] * shade[:, None]
    # Per-window random draws (pane tint, lit or not, brightness) only on glass pixels.
    glass = np.flatnonzero(window | shop)
    key = i[glass].astype(np.int64) * 2 + (run.side > 0)
    column, storey = column[glass], storey[glass]
    pane = hash01(layout.texture_seed, key, column, storey)
    glass_colour = srgb_to_linear(np.asarray(d.city.palette.window, np.float32))
    albedo[glass] = glass_colour * (GLASS_SHADE[0] + (GLASS_SHADE[1] - GLASS_SHADE[0]) * pane[:, None])
    light = d.city.illumination
    lit = window[glass] & (hash01(layout.texture_seed + 1, key, column, storey) < light.window_lit_fraction)
    shop_lit = shop[glass] & (hash01(layout.texture_seed + 2, key) < SHOP_LIT_PROBABILITY)
    brightness = 0.5 + hash01(layout.texture_seed + 3, key, column, storey)
    window_glow = np.where(lit, brightness, np.where(shop_lit, SHOP_EMISSION, 0.0)).astype(np.float32)
    emission = np.zeros((rows.size, 3), np.float32)
    window_light = np.asarray(light.window_colour, np.float32) * light.window_emission
    emission[glass] = window_glow[:, None] * window_light
    # The facade across the street from the sun faces it, above the shadow of the sun side.
    if run.side == -layout.sun_side:
        street = abs(layout.facades[0].x - layout.facades[1].x)
        shadow_top = layout.sun_facade_height(z) - street * layout.sun_tan / SHADOW_LATERAL
        sun = np.where(y > shadow_top, FACADE_SUN, 0.0).astype(np.float32)
    else:
        sun = np.zeros(rows.size, np.float32)
    d.canvas.write(rows * cam.width + cols, ID["building"], albedo, run.x, y, z,
                   N_POS_X if run.side < 0 else N_NEG_X, sun, FACADE_AMBIENT, emission, 0.0)
