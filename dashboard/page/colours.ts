/**
 * The page's colour scales, in one place: the map's layers and the legend both read them, so the legend
 * cannot drift from what is drawn. Chosen to stay apart on the light base map and for common colour blindness
 * (speed and z run through lightness as well as hue).
 */

/** vehicle speed, km/h → colour: slow is dark red, free-flowing is blue */
export const SPEED_STOPS: [kmh: number, colour: string][] = [
  [0, '#7f0000'],
  [10, '#d7301f'],
  [25, '#fc8d59'],
  [40, '#41ab5d'],
  [60, '#2171b5'],
];

/** a hot cell's Gi* z-score → colour */
export const Z_STOPS: [z: number, colour: string][] = [
  [3, '#fed976'],
  [6, '#fd8d3c'],
  [10, '#e31a1c'],
  [15, '#800026'],
];

/** OSM highway classes, widest first: colour and width at zoom 15 (px) */
export const ROAD_STYLE: [classes: string[], colour: string, width: number, label: string][] = [
  [['motorway', 'motorway_link', 'trunk', 'trunk_link'], '#e8920c', 5, 'motorway, trunk'],
  [['primary', 'primary_link'], '#f0b429', 4.5, 'primary'],
  [['secondary', 'secondary_link'], '#e6cf5c', 4, 'secondary'],
  [['tertiary', 'tertiary_link', 'unclassified', 'road'], '#9a9a9a', 3, 'tertiary, unclassified'],
  [['residential', 'living_street'], '#b4b4b4', 2.5, 'residential'],
  [['service'], '#cfcfcf', 1.5, 'service'],
];

export const FENCE_COLOUR = '#5e3c99';
export const DRAWN_COLOUR = '#00838f';
export const ENTER_COLOUR = '#1b9e77';
export const EXIT_COLOUR = '#d95f02';
export const BACKGROUND = '#f4f2ee';
/** the nearest vehicles to a click, and the point clicked */
export const NEAREST_COLOUR = '#6a1b9a';
