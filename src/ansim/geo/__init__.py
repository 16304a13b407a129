"""Places: region codes and names, H3 cells, gazetteer and offline geocoding."""
