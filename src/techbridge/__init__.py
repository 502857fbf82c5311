"""TechBridge: 科技成果转化撮合平台."""

__version__ = "0.1.0"
