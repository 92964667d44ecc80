/**
 * Highway classes a car may use, with default speeds in km/h (urban European defaults): a road graph's edge
 * classes index it. Apart from the OSM import, so that what reads a graph does not load the PBF reader.
 */
export const HIGHWAY_CLASSES: [string, number][] = [
  ['motorway', 110], ['motorway_link', 60], ['trunk', 90], ['trunk_link', 50], ['primary', 70], ['primary_link', 50],
  ['secondary', 60], ['secondary_link', 40], ['tertiary', 50], ['tertiary_link', 40], ['unclassified', 40],
  ['residential', 30], ['living_street', 10], ['service', 20], ['road', 40],
];
