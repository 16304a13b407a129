"""Street networks as compact arrays: nodes, CSR arcs with length, travel time, geometry and H3 cell shares.

A :class:`Network` is one routing profile (``walk`` or ``drive``) of one OSM source. Sources are the bundled
OSMnx GraphML graphs (``central``, ``yongsan``), any OSMnx GraphML file, an OSM PBF extract (read with pyrosm)
or an OSM XML file (read with pyosmium). Loading parses the file once, then caches the arrays as an ``.npz``
under ``settings.var_dir / "routing"`` keyed by the file's SHA-256, the profile and the H3 resolution.

Profiles
--------
walk
    Every street except motorways (``motorway``, ``motorway_link``), in both directions, at
    :data:`WALK_SPEED_KMH` (4.8 km/h, the usual adult walking pace used by microCOVID-style tools and
    routing engines such as OSRM's foot profile at 5 km/h).
drive
    One-way streets respected. Speed from the ``maxspeed`` tag (mean of a list, ``mph`` converted), else
    :data:`DRIVE_DEFAULT_KMH` by highway class (Korean legal limits, "안전속도 5030"). Free-flow: no congestion.

Only the largest strongly connected component is kept, so every pair of nodes has a route.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import math
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ansim.errors import InputError
from ansim.settings import get_settings

Profile = Literal["walk", "drive"]
PROFILES: tuple[Profile, ...] = ("walk", "drive")

WALK_SPEED_KMH = 4.8
#: Default driving speeds (km/h) by OSM highway class when ``maxspeed`` is missing. Korean urban limits:
#: 50 on arterials and 30 in residential streets ("안전속도 5030", 2021), expressways 100, urban motorways 80.
DRIVE_DEFAULT_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 20.0,
    "service": 20.0,
    "road": 30.0,
}
DRIVE_FALLBACK_KMH = 30.0
MOTORWAY_CLASSES = frozenset({"motorway", "motorway_link"})
#: Sampling step along arc geometry when assigning H3 cells (metres): below the ~65 m edge of a res-10 cell.
SAMPLE_STEP_M = 15.0
BUNDLED_GRAPHS: dict[str, str] = {
    "central": "osm/central_seoul_drive.graphml.gz",
    "yongsan": "osm/yongsan_drive.graphml.gz",
}
_LOADER_VERSION = 2
_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, eq=False)
class Network:
    """One routing profile of one street network, as arrays (arcs sorted by tail: CSR).

    Attributes
    ----------
    node_osmid, lat, lon
        Per node (``n``): OSM node id and WGS84 position.
    first_out
        CSR offsets (``n + 1``): arcs leaving node ``v`` are ``first_out[v]:first_out[v + 1]``.
    tail, head, length_m, duration_s
        Per arc (``m``).
    geom_ptr, geom_lat, geom_lon
        Arc geometry, tail to head: points of arc ``a`` are ``geom_ptr[a]:geom_ptr[a + 1]``.
    cells, cell_arc, cell_idx, cell_share
        H3 cells crossed: entry ``k`` says arc ``cell_arc[k]`` spends ``cell_share[k]`` of its length in
        ``cells[cell_idx[k]]``; the shares of one arc sum to 1.
    """

    name: str
    profile: str
    checksum: str
    resolution: int
    node_osmid: NDArray[np.int64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    first_out: NDArray[np.int64]
    tail: NDArray[np.int32]
    head: NDArray[np.int32]
    length_m: NDArray[np.float64]
    duration_s: NDArray[np.float64]
    geom_ptr: NDArray[np.int64]
    geom_lat: NDArray[np.float64]
    geom_lon: NDArray[np.float64]
    cells: NDArray[np.uint64]
    cell_arc: NDArray[np.int32]
    cell_idx: NDArray[np.int32]
    cell_share: NDArray[np.float64]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.lat.shape[0])

    @property
    def n_arcs(self) -> int:
        """Number of arcs."""
        return int(self.tail.shape[0])

    @cached_property
    def digest(self) -> str:
        """Identity of the topology (arcs and node positions): the key of engine caches."""
        h = hashlib.sha256()
        for arr in (self.tail, self.head, self.lat, self.lon):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:24]

    @cached_property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` of the nodes."""
        return (
            float(self.lon.min()),
            float(self.lat.min()),
            float(self.lon.max()),
            float(self.lat.max()),
        )

    def path_coordinates(self, arcs: Sequence[int] | NDArray[np.integer]) -> list[list[float]]:
        """GeoJSON ``[lon, lat]`` coordinates of a path given as arc ids (joints not repeated)."""
        coords: list[list[float]] = []
        for a in np.asarray(arcs, dtype=np.int64):
            lo, hi = int(self.geom_ptr[a]), int(self.geom_ptr[a + 1])
            start = lo + 1 if coords else lo
            coords.extend(
                [float(x), float(y)]
                for x, y in zip(self.geom_lon[start:hi], self.geom_lat[start:hi], strict=True)
            )
        return coords


@dataclass(frozen=True)
class _RawEdges:
    """Edges as read from a source, before profiles. ``directed``: OSMnx graphs already encode one-ways."""

    node_osmid: NDArray[np.int64]
    node_lat: NDArray[np.float64]
    node_lon: NDArray[np.float64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    length_m: NDArray[np.float64]
    highway: list[tuple[str, ...]]
    maxspeed: list[str | None]
    oneway: NDArray[np.int8]  # 1 forward only, -1 reverse only, 0 both ways
    geom_ptr: NDArray[np.int64]
    geom_lon: NDArray[np.float64]
    geom_lat: NDArray[np.float64]
    directed: bool


# ---------------------------------------------------------------------------------------------------------
# public entry point


def resolve_source(source: str | os.PathLike[str]) -> tuple[str, Path]:
    """Map ``central`` / ``yongsan`` / a file path to ``(name, path)``; raise :class:`InputError` if missing."""
    text = str(source)
    if text in BUNDLED_GRAPHS:
        return text, get_settings().data_dir / BUNDLED_GRAPHS[text]
    path = Path(text).expanduser()
    if not path.is_file():
        msg = f"no such network file {text!r} (or one of: {', '.join(BUNDLED_GRAPHS)})"
        raise InputError(msg, field="network")
    return path.name.split(".")[0], path


def load_network(
    source: str | os.PathLike[str],
    profile: Profile = "walk",
    *,
    resolution: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> Network:
    """Load a street network for one profile, from the on-disk cache when the source is unchanged.

    Parameters
    ----------
    source
        ``"central"``, ``"yongsan"`` (bundled), or a path to GraphML (``.graphml[.gz]``), PBF (``.pbf``)
        or OSM XML (``.osm``, ``.osm.gz``, ``.osm.bz2``).
    profile
        ``"walk"`` or ``"drive"``.
    resolution
        H3 resolution of the cell shares; default ``settings.h3_resolution``.
    cache_dir
        Where the ``.npz`` cache lives; default ``settings.var_dir / "routing"``.
    """
    if profile not in PROFILES:
        msg = f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}"
        raise InputError(msg, field="profile")
    settings = get_settings()
    res = settings.h3_resolution if resolution is None else int(resolution)
    name, path = resolve_source(source)
    checksum = _file_sha256(path)
    cache_root = settings.var_dir / "routing" if cache_dir is None else cache_dir
    cache_file = cache_root / f"net-{checksum[:20]}-{profile}-r{res}-v{_LOADER_VERSION}.npz"
    if use_cache and cache_file.is_file():
        return _load_npz(cache_file, name=name)
    raw = read_source(path)
    net = build_network(raw, profile=profile, name=name, checksum=checksum, resolution=res)
    if use_cache:
        _save_npz(net, cache_file)
    return net


def read_source(path: Path) -> _RawEdges:
    """Read edges from GraphML, PBF or OSM XML, chosen by file name."""
    lower = path.name.lower()
    try:
        if ".graphml" in lower:
            return _read_graphml(path)
        if lower.endswith(".pbf"):
            return _read_pbf(path)
        if lower.endswith((".osm", ".osm.gz", ".osm.bz2", ".xml", ".xml.gz")):
            return _read_osm_xml(path)
    except InputError:
        raise
    except (ET.ParseError, OSError, ValueError, KeyError, RuntimeError) as exc:
        msg = f"cannot read street network: {exc}"
        raise InputError(msg, source=path.name, field="network") from exc
    msg = "unknown network format; use .graphml[.gz], .pbf or .osm[.gz|.bz2]"
    raise InputError(msg, source=path.name, field="network")


# ---------------------------------------------------------------------------------------------------------
# readers


def _read_graphml(path: Path) -> _RawEdges:
    opener = gzip.open if path.name.endswith(".gz") else open
    keys: dict[str, str] = {}
    node_ids: list[int] = []
    node_lat: list[float] = []
    node_lon: list[float] = []
    us: list[int] = []
    vs: list[int] = []
    lengths: list[float] = []
    highways: list[tuple[str, ...]] = []
    maxspeeds: list[str | None] = []
    wkts: list[str | None] = []
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    with opener(path, "rb") as fh:
        for _event, elem in ET.iterparse(fh, events=("end",)):
            tag = elem.tag.removeprefix(ns)
            if tag == "key":
                keys[elem.attrib["id"]] = elem.attrib["attr.name"]
            elif tag == "node":
                data = {keys.get(d.attrib["key"], ""): d.text or "" for d in elem}
                node_ids.append(int(elem.attrib["id"]))
                node_lat.append(float(data["y"]))
                node_lon.append(float(data["x"]))
                elem.clear()
            elif tag == "edge":
                data = {keys.get(d.attrib["key"], ""): d.text or "" for d in elem}
                us.append(int(elem.attrib["source"]))
                vs.append(int(elem.attrib["target"]))
                lengths.append(float(data.get("length", "nan")))
                highways.append(_tag_values(data.get("highway")) or ("road",))
                maxspeeds.append(data.get("maxspeed"))
                wkts.append(data.get("geometry"))
                elem.clear()
    if not us:
        msg = "no edges in GraphML file"
        raise InputError(msg, source=path.name, field="network")
    nid = np.asarray(node_ids, dtype=np.int64)
    lat = np.asarray(node_lat)
    lon = np.asarray(node_lon)
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    ptr, glon, glat = _edge_geometries(wkts, u, v, nid, lon, lat)
    length = np.asarray(lengths)
    bad = ~np.isfinite(length)
    length[bad] = _polyline_lengths(ptr, glon, glat)[bad]
    return _RawEdges(
        node_osmid=nid,
        node_lat=lat,
        node_lon=lon,
        u=u,
        v=v,
        length_m=length,
        highway=highways,
        maxspeed=maxspeeds,
        oneway=np.ones(len(us), dtype=np.int8),
        geom_ptr=ptr,
        geom_lon=glon,
        geom_lat=glat,
        directed=True,
    )


def _read_pbf(path: Path) -> _RawEdges:
    import pyrosm  # heavy import, only when a PBF is asked for

    # "all" keeps every highway; profiles filter below, so one read serves walking and driving.
    osm = pyrosm.OSM(str(path))
    got = osm.get_network(network_type="all", nodes=True)
    if got is None:
        msg = "no streets in PBF file"
        raise InputError(msg, source=path.name, field="network")
    nodes, edges = got
    edges = edges[edges.geometry.notna()].reset_index(drop=True)
    geoms = np.asarray(edges.geometry.values)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(idx, minlength=len(geoms))
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    oneway = np.array(
        [_oneway_code(x) for x in edges.get("oneway", [None] * len(edges))], dtype=np.int8
    )
    length = np.array(edges["length"], dtype=np.float64)  # a writable copy
    glon = coords[:, 0].astype(np.float64)
    glat = coords[:, 1].astype(np.float64)
    bad = ~np.isfinite(length)
    length[bad] = _polyline_lengths(ptr, glon, glat)[bad]
    return _RawEdges(
        node_osmid=np.asarray(nodes["id"], dtype=np.int64),
        node_lat=np.asarray(nodes["lat"], dtype=np.float64),
        node_lon=np.asarray(nodes["lon"], dtype=np.float64),
        u=np.asarray(edges["u"], dtype=np.int64),
        v=np.asarray(edges["v"], dtype=np.int64),
        length_m=length,
        highway=[_tag_values(h) or ("road",) for h in edges["highway"]],
        maxspeed=[
            None if _is_missing(x) else str(x) for x in edges.get("maxspeed", [None] * len(edges))
        ],
        oneway=oneway,
        geom_ptr=ptr,
        geom_lon=glon,
        geom_lat=glat,
        directed=False,
    )


def _read_osm_xml(path: Path) -> _RawEdges:
    import osmium  # only for OSM XML

    node_pos: dict[int, tuple[float, float]] = {}
    ways: list[tuple[list[int], str, str | None, str | None]] = []

    class _Handler(osmium.SimpleHandler):
        def way(self, w: osmium.osm.Way) -> None:
            hw = w.tags.get("highway")
            if hw is None or len(w.nodes) < 2:
                return
            refs = []
            for n in w.nodes:
                if n.location.valid():
                    node_pos[n.ref] = (n.location.lat, n.location.lon)
                    refs.append(n.ref)
            if len(refs) >= 2:
                ways.append((refs, hw, w.tags.get("maxspeed"), w.tags.get("oneway")))

    _Handler().apply_file(str(path), locations=True)
    if not ways:
        msg = "no highway ways in OSM file"
        raise InputError(msg, source=path.name, field="network")
    # Split ways at nodes shared by several ways (intersections) so routing can turn there.
    use: dict[int, int] = {}
    for refs, *_ in ways:
        for r in refs:
            use[r] = use.get(r, 0) + 1
    us: list[int] = []
    vs: list[int] = []
    hws: list[tuple[str, ...]] = []
    mss: list[str | None] = []
    ones: list[int] = []
    glon: list[float] = []
    glat: list[float] = []
    ptr = [0]
    for refs, hw, ms, ow in ways:
        start = 0
        for i in range(1, len(refs)):
            if i == len(refs) - 1 or use[refs[i]] > 1:
                piece = refs[start : i + 1]
                us.append(piece[0])
                vs.append(piece[-1])
                hws.append((hw,))
                mss.append(ms)
                ones.append(_oneway_code(ow))
                for r in piece:
                    la, lo = node_pos[r]
                    glat.append(la)
                    glon.append(lo)
                ptr.append(len(glat))
                start = i
    ids = np.fromiter(node_pos.keys(), dtype=np.int64)
    pos = np.array(list(node_pos.values()), dtype=np.float64)
    gptr = np.asarray(ptr, dtype=np.int64)
    alon = np.asarray(glon)
    alat = np.asarray(glat)
    return _RawEdges(
        node_osmid=ids,
        node_lat=pos[:, 0],
        node_lon=pos[:, 1],
        u=np.asarray(us, dtype=np.int64),
        v=np.asarray(vs, dtype=np.int64),
        length_m=_polyline_lengths(gptr, alon, alat),
        highway=hws,
        maxspeed=mss,
        oneway=np.asarray(ones, dtype=np.int8),
        geom_ptr=gptr,
        geom_lon=alon,
        geom_lat=alat,
        directed=False,
    )


# ---------------------------------------------------------------------------------------------------------
# profiles and arrays


def build_network(
    raw: _RawEdges, *, profile: Profile, name: str, checksum: str, resolution: int
) -> Network:
    """Turn raw edges into the arrays of one profile (pure; no caching)."""
    n_edges = raw.u.shape[0]
    classes = raw.highway
    if profile == "walk":
        keep = np.array([not (set(c) & MOTORWAY_CLASSES) for c in classes], dtype=bool)
        if raw.directed:
            keep &= _first_of_undirected_duplicates(raw.u, raw.v, raw.length_m)
        e = np.flatnonzero(keep)
        edge = np.concatenate([e, e])
        rev = np.concatenate([np.zeros(e.size, bool), np.ones(e.size, bool)])
        speed_kmh = np.full(n_edges, WALK_SPEED_KMH)
    else:
        if raw.directed:
            edge = np.arange(n_edges)
            rev = np.zeros(n_edges, bool)
        else:
            drivable = np.array([_is_drivable(c) for c in classes], dtype=bool)
            fwd = np.flatnonzero(drivable & (raw.oneway >= 0))
            bwd = np.flatnonzero(drivable & (raw.oneway <= 0))
            edge = np.concatenate([fwd, bwd])
            rev = np.concatenate([np.zeros(fwd.size, bool), np.ones(bwd.size, bool)])
        speed_kmh = np.array(
            [_drive_speed_kmh(c, m) for c, m in zip(classes, raw.maxspeed, strict=True)],
            dtype=np.float64,
        )
    # Arc endpoints in osmid space, then compress to the nodes of the largest strongly connected component.
    tail_id = np.where(rev, raw.v[edge], raw.u[edge])
    head_id = np.where(rev, raw.u[edge], raw.v[edge])
    order = np.argsort(raw.node_osmid, kind="stable")
    sorted_ids = raw.node_osmid[order]
    known = np.isin(tail_id, sorted_ids) & np.isin(head_id, sorted_ids) & (tail_id != head_id)
    edge, rev, tail_id, head_id = edge[known], rev[known], tail_id[known], head_id[known]
    t_all = order[np.searchsorted(sorted_ids, tail_id)]
    h_all = order[np.searchsorted(sorted_ids, head_id)]
    n_all = raw.node_osmid.shape[0]
    graph = coo_matrix((np.ones(t_all.size), (t_all, h_all)), shape=(n_all, n_all)).tocsr()
    _, label = connected_components(graph, directed=True, connection="strong")
    used = np.zeros(n_all, bool)
    used[t_all] = True
    used[h_all] = True
    sizes = np.bincount(label[used]) if used.any() else np.zeros(1, np.int64)
    if sizes.size == 0 or sizes.max() < 2:
        msg = f"no routable streets for profile {profile!r}"
        raise InputError(msg, source=name, field="network")
    big = int(np.argmax(sizes))
    in_comp = label == big
    keep_arc = in_comp[t_all] & in_comp[h_all]
    new_id = np.cumsum(in_comp) - 1
    tail = new_id[t_all[keep_arc]].astype(np.int32)
    head = new_id[h_all[keep_arc]].astype(np.int32)
    edge, rev = edge[keep_arc], rev[keep_arc]
    arc_order = np.lexsort((head, tail))
    tail, head, edge, rev = tail[arc_order], head[arc_order], edge[arc_order], rev[arc_order]
    n = int(in_comp.sum())
    first_out = np.searchsorted(tail, np.arange(n + 1)).astype(np.int64)
    length_m = raw.length_m[edge].astype(np.float64)
    duration_s = length_m / (speed_kmh[edge] / 3.6)
    geom_ptr, src = _gather_rows(raw.geom_ptr, edge, rev)
    # Cell shares are computed per source edge, then gathered per arc (a reversed arc crosses the same cells).
    e_ptr, e_cells, e_share = _edge_cell_shares(
        raw.geom_ptr, raw.geom_lon, raw.geom_lat, np.unique(edge), resolution
    )
    cell_arc, cell_vals, cell_share = _cells_per_arc(edge, e_ptr, e_cells, e_share)
    cells, cell_idx = np.unique(cell_vals, return_inverse=True)
    return Network(
        name=name,
        profile=profile,
        checksum=checksum,
        resolution=resolution,
        node_osmid=raw.node_osmid[in_comp],
        lat=raw.node_lat[in_comp].astype(np.float64),
        lon=raw.node_lon[in_comp].astype(np.float64),
        first_out=first_out,
        tail=tail,
        head=head,
        length_m=length_m,
        duration_s=duration_s,
        geom_ptr=geom_ptr,
        geom_lat=raw.geom_lat[src],
        geom_lon=raw.geom_lon[src],
        cells=cells.astype(np.uint64),
        cell_arc=cell_arc.astype(np.int32),
        cell_idx=cell_idx.astype(np.int32),
        cell_share=cell_share,
    )


def _first_of_undirected_duplicates(
    u: NDArray[np.int64], v: NDArray[np.int64], length_m: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Keep one edge of each two-way street (OSMnx stores u→v and v→u with the same length)."""
    a = np.minimum(u, v)
    b = np.maximum(u, v)
    rounded = np.round(length_m, 1)
    order = np.lexsort((rounded, b, a))
    dup = np.zeros(u.size, bool)
    same = (
        (a[order][1:] == a[order][:-1])
        & (b[order][1:] == b[order][:-1])
        & (rounded[order][1:] == rounded[order][:-1])
    )
    dup[order[1:][same]] = True
    return ~dup


def _gather_rows(
    ptr: NDArray[np.int64], rows: NDArray[np.integer], reverse: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """CSR gather: new offsets and source positions of ``rows`` (each optionally reversed)."""
    counts = (ptr[rows + 1] - ptr[rows]).astype(np.int64)
    new_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    pos = np.arange(new_ptr[-1], dtype=np.int64) - np.repeat(new_ptr[:-1], counts)
    start = np.repeat(ptr[rows], counts)
    end = np.repeat(ptr[rows + 1] - 1, counts)
    src = np.where(np.repeat(reverse, counts), end - pos, start + pos)
    return new_ptr, src


def _edge_cell_shares(
    ptr: NDArray[np.int64],
    glon: NDArray[np.float64],
    glat: NDArray[np.float64],
    edges: NDArray[np.integer],
    resolution: int,
) -> tuple[NDArray[np.int64], NDArray[np.uint64], NDArray[np.float64]]:
    """Per edge (indexed like ``ptr``), the H3 cells its geometry crosses and the share of length in each.

    Each segment is cut into pieces of at most :data:`SAMPLE_STEP_M`; a piece's midpoint decides its cell.
    """
    from h3.api import basic_int as h3i

    n_edges = ptr.shape[0] - 1
    seg_ptr, pt = _gather_rows(ptr, np.asarray(edges), np.zeros(len(edges), bool))
    seg_counts = np.diff(seg_ptr) - 1  # segments per selected edge
    first = seg_ptr[:-1]
    row = np.repeat(np.arange(len(edges)), np.diff(seg_ptr))
    starts = np.flatnonzero(
        row[:-1] == row[1:]
    )  # a segment joins two consecutive points of one edge
    seg_edge = row[starts]
    a_lon, a_lat = glon[pt[starts]], glat[pt[starts]]
    b_lon, b_lat = glon[pt[starts + 1]], glat[pt[starts + 1]]
    seg_len = _haversine_m(a_lat, a_lon, b_lat, b_lon)
    pieces = np.maximum(1, np.ceil(seg_len / SAMPLE_STEP_M)).astype(np.int64)
    piece_seg = np.repeat(np.arange(seg_len.size), pieces)
    seg_first = np.concatenate([[0], np.cumsum(pieces)])[:-1]
    frac = (np.arange(piece_seg.size) - np.repeat(seg_first, pieces) + 0.5) / pieces[piece_seg]
    s_lat = a_lat[piece_seg] + (b_lat[piece_seg] - a_lat[piece_seg]) * frac
    s_lon = a_lon[piece_seg] + (b_lon[piece_seg] - a_lon[piece_seg]) * frac
    # A tiny floor keeps zero-length segments (duplicate points) from dividing by zero.
    s_w = np.maximum(seg_len[piece_seg] / pieces[piece_seg], 1e-9)
    s_edge = seg_edge[piece_seg]
    s_cell = np.fromiter(
        (
            h3i.latlng_to_cell(float(y), float(x), resolution)
            for y, x in zip(s_lat, s_lon, strict=True)
        ),
        dtype=np.uint64,
        count=s_lat.size,
    )
    # Edges without a segment (single point) take the cell of their point.
    lonely = np.flatnonzero(seg_counts <= 0)
    if lonely.size:
        p = pt[first[lonely]]
        extra = np.fromiter(
            (h3i.latlng_to_cell(float(glat[i]), float(glon[i]), resolution) for i in p),
            dtype=np.uint64,
            count=p.size,
        )
        s_cell = np.concatenate([s_cell, extra])
        s_edge = np.concatenate([s_edge, lonely])
        s_w = np.concatenate([s_w, np.ones(lonely.size)])
    # Sum weights per (edge, cell), normalise per edge.
    key_order = np.lexsort((s_cell, s_edge))
    s_edge, s_cell, s_w = s_edge[key_order], s_cell[key_order], s_w[key_order]
    new_group = np.ones(s_edge.size, bool)
    new_group[1:] = (s_edge[1:] != s_edge[:-1]) | (s_cell[1:] != s_cell[:-1])
    gid = np.cumsum(new_group) - 1
    g_w = np.bincount(gid, weights=s_w)
    g_edge = s_edge[new_group]
    g_cell = s_cell[new_group]
    tot = np.bincount(g_edge, weights=g_w, minlength=len(edges))
    g_share = g_w / tot[g_edge]
    # Back to the full edge index space.
    full_edge = np.asarray(edges)[g_edge]
    counts = np.bincount(full_edge, minlength=n_edges)
    e_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return e_ptr, g_cell, g_share


def _cells_per_arc(
    edge: NDArray[np.integer],
    e_ptr: NDArray[np.int64],
    e_cells: NDArray[np.uint64],
    e_share: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.uint64], NDArray[np.float64]]:
    new_ptr, src = _gather_rows(e_ptr, edge, np.zeros(edge.size, bool))
    arc = np.repeat(np.arange(edge.size), np.diff(new_ptr))
    return arc, e_cells[src], e_share[src]


def _edge_geometries(
    wkts: list[str | None],
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    node_ids: NDArray[np.int64],
    node_lon: NDArray[np.float64],
    node_lat: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates of every edge u→v: its WKT geometry, else the straight line between its nodes."""
    order = np.argsort(node_ids)
    pos_u = order[np.searchsorted(node_ids[order], u)]
    pos_v = order[np.searchsorted(node_ids[order], v)]
    geoms = shapely.from_wkt(np.array([w if w else None for w in wkts], dtype=object))
    missing = shapely.is_missing(geoms)
    straight = shapely.linestrings(
        np.stack(
            [
                np.stack([node_lon[pos_u], node_lat[pos_u]], axis=1),
                np.stack([node_lon[pos_v], node_lat[pos_v]], axis=1),
            ],
            axis=1,
        )
    )
    geoms = np.where(missing, straight, geoms)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(idx, minlength=len(wkts))
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return ptr, coords[:, 0].copy(), coords[:, 1].copy()


def _polyline_lengths(
    ptr: NDArray[np.int64], glon: NDArray[np.float64], glat: NDArray[np.float64]
) -> NDArray[np.float64]:
    seg = _haversine_m(glat[:-1], glon[:-1], glat[1:], glon[1:])
    row = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    same_row = row[:-1] == row[1:]
    return np.bincount(row[:-1][same_row], weights=seg[same_row], minlength=ptr.size - 1).astype(
        np.float64
    )


def _haversine_m(
    lat1: NDArray[np.float64],
    lon1: NDArray[np.float64],
    lat2: NDArray[np.float64],
    lon2: NDArray[np.float64],
) -> NDArray[np.float64]:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


# ---------------------------------------------------------------------------------------------------------
# tags

_MPH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*mph\s*$", re.IGNORECASE)
_NUM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:km/h|kmh|kph)?\s*$", re.IGNORECASE)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _tag_values(value: object) -> tuple[str, ...]:
    """OSM tag as a tuple: GraphML lists look like ``"['secondary_link', 'secondary']"``."""
    if _is_missing(value):
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = text.strip("[]").split(",")
        return tuple(str(v).strip().strip("'\"") for v in parsed)
    return tuple(p.strip() for p in text.split(";") if p.strip())


def _parse_maxspeed_kmh(value: object) -> float | None:
    speeds: list[float] = []
    for item in _tag_values(value):
        if m := _NUM.match(item):
            speeds.append(float(m[1]))
        elif m := _MPH.match(item):
            speeds.append(float(m[1]) * 1.609344)
    speeds = [s for s in speeds if s > 0]
    return sum(speeds) / len(speeds) if speeds else None


def _drive_speed_kmh(classes: Iterable[str], maxspeed: object) -> float:
    tagged = _parse_maxspeed_kmh(maxspeed)
    if tagged is not None:
        return tagged
    known = [DRIVE_DEFAULT_KMH[c] for c in classes if c in DRIVE_DEFAULT_KMH]
    return sum(known) / len(known) if known else DRIVE_FALLBACK_KMH


def _is_drivable(classes: Iterable[str]) -> bool:
    return any(c in DRIVE_DEFAULT_KMH for c in classes)


def _oneway_code(value: object) -> int:
    if _is_missing(value):
        return 0
    text = str(value).strip().lower()
    if text in {"yes", "true", "1"}:
        return 1
    if text in {"-1", "reverse"}:
        return -1
    return 0


# ---------------------------------------------------------------------------------------------------------
# cache


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_ARRAY_FIELDS = (
    "node_osmid",
    "lat",
    "lon",
    "first_out",
    "tail",
    "head",
    "length_m",
    "duration_s",
    "geom_ptr",
    "geom_lat",
    "geom_lon",
    "cells",
    "cell_arc",
    "cell_idx",
    "cell_share",
)


def _save_npz(net: Network, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f: getattr(net, f) for f in _ARRAY_FIELDS}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    with os.fdopen(fd, "wb") as fh:
        np.savez(
            fh,
            profile=np.array(net.profile),
            checksum=np.array(net.checksum),
            resolution=np.array(net.resolution),
            **arrays,
        )
    os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one


def _load_npz(path: Path, *, name: str) -> Network:
    with np.load(path, allow_pickle=False) as z:
        arrays = {f: z[f] for f in _ARRAY_FIELDS}
        return Network(
            name=name,
            profile=str(z["profile"]),
            checksum=str(z["checksum"]),
            resolution=int(z["resolution"]),
            **arrays,
        )
