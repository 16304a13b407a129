"""Risk: prevalence, Rt, distancing levels, visit risk (microCOVID), explanations; spatial layers and the engine."""
