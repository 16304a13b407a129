"""Ansim (안심): real-time pandemic risk for Seoul, per place, time, route and plan."""

__version__ = "0.1.0"
