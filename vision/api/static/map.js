// The map of every site: Leaflet and Leaflet.markercluster (vendored from npm at pinned versions by
// scripts/vendor_web_assets.py; loaded as classic scripts before the modules, as window.L), over the
// tile server of the config's map.tiles, or over a plain background with the map.overlay GeoJSON
// (district boundaries, roads) when there is none. Sites are markers coloured by their status against
// target; near each other they are clustered, a cluster coloured by the worst of its sites.
// This module draws; what a site's status and popup say is decided by the caller (dashboard.js).

const L = window.L;
const RANKS = { nodata: 0, ok: 1, near: 2, below: 3 };
const FIT_MAX_ZOOM = 16; // a lone site is shown with its streets, not at the tiles' deepest zoom
const NAMED_UP_TO = 25; // up to this many sites, each is named beside its pin; more would hide the map

/**
 * A map in `container`.
 * @param {HTMLElement} container
 * @param {{tiles: null | {url: string, attribution: string, max_zoom: number, subdomains: string},
 *          overlay: null | object}} view  what /api/v1/map answers
 * @param {(key: string) => string} t  the page's translation function
 */
export function createSiteMap(container, view, t) {
  const map = L.map(container, { zoomSnap: 0.5, worldCopyJump: true });
  map.attributionControl.setPrefix(false); // no link out of a closed network
  if (view.tiles) {
    L.tileLayer(view.tiles.url, {
      attribution: view.tiles.attribution,
      maxZoom: view.tiles.max_zoom,
      subdomains: view.tiles.subdomains,
    }).addTo(map);
  } else {
    container.classList.add("plain-map");
    map.setMaxZoom(19);
  }
  if (view.overlay) {
    L.geoJSON(view.overlay, { interactive: false, className: "map-overlay", pointToLayer: () => null }).addTo(map);
  }
  const clusters = L.markerClusterGroup({
    maxClusterRadius: 48,
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    iconCreateFunction(cluster) {
      const children = cluster.getAllChildMarkers();
      const worst = children.reduce((a, m) => (RANKS[m.options.statusKey] > RANKS[a] ? m.options.statusKey : a), "nodata");
      return L.divIcon({
        className: `site-cluster ${worst}`,
        html: `<span>${children.length}</span>`,
        iconSize: L.point(36, 36),
      });
    },
  });
  map.addLayer(clusters);
  let fitted = false;
  const markers = new Map(); // site id -> marker

  /**
   * Draw `sites`: [{id, lat, lon, name, statusKey, label, popup: HTMLElement, selected}] (sites without
   * coordinates are left out by the caller; `label` is the name with its rate and status, for the
   * pin's title and screen readers). The first call fits the map to every site.
   */
  function update(sites) {
    const open = [...markers.values()].find((m) => m.isPopupOpen());
    const openId = open ? open.options.siteId : null;
    clusters.clearLayers();
    markers.clear();
    for (const site of sites) {
      const marker = L.marker([site.lat, site.lon], {
        icon: L.divIcon({
          className: `site-pin ${site.statusKey}${site.selected ? " selected" : ""}`,
          iconSize: L.point(22, 22),
        }),
        title: site.label,
        alt: site.label,
        keyboard: true,
        siteId: site.id,
        statusKey: site.statusKey,
      });
      marker.bindPopup(site.popup, { maxWidth: 360 });
      if (sites.length <= NAMED_UP_TO) {
        marker.bindTooltip(site.name, { permanent: true, direction: "auto", offset: L.point(10, 0), className: "site-name" });
      }
      markers.set(site.id, marker);
    }
    clusters.addLayers([...markers.values()]);
    if (!fitted && sites.length) {
      map.fitBounds(L.latLngBounds(sites.map((s) => [s.lat, s.lon])), { padding: [32, 32], maxZoom: FIT_MAX_ZOOM });
      fitted = true;
    }
    if (openId && markers.has(openId)) clusters.zoomToShowLayer(markers.get(openId), () => markers.get(openId).openPopup());
    container.setAttribute("aria-label", t("Map of {n} sites", { n: sites.length }));
  }

  /**
   * Show the site's marker (out of its cluster) and open its popup. The page was opened at this site, so
   * it goes there at once, unanimated: the popup then opens now rather than at the end of a chain of zoom
   * animations, which a slow machine (or a headless browser's virtual clock) may never see finish.
   */
  function reveal(siteId) {
    const marker = markers.get(siteId);
    if (!marker) return;
    // markercluster 1.5 (pinned): __parent is the smallest cluster holding the marker, drawn up to its
    // _zoom; one level deeper the marker stands alone (or, at the deepest zoom, its cluster spiderfies).
    const alone = marker.__parent ? marker.__parent._zoom + 1 : map.getZoom();
    map.setView(marker.getLatLng(), Math.min(Math.max(alone, map.getZoom()), map.getMaxZoom()), { animate: false });
    clusters.zoomToShowLayer(marker, () => marker.openPopup());
  }

  return { update, reveal, leaflet: map };
}
