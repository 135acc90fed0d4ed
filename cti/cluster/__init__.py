"""Running the product on several nodes: which node drives the PBX, and proof that it may."""
