"""Follow the PubMed evidence for each hypothesised cause of fibromyalgia."""

__version__ = "0.1.0"
