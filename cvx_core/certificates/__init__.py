"""Certificate machinery (docs/math.md section 5), below the solvers and the public concepts.

- :mod:`.cells`: the value of every cell at a dual vector (NNLS), the lower bound of any lambda;
- :mod:`.sphere`: the exact maximum on the sphere for complete arrangements in the plane;
- :mod:`.hashing`, :mod:`.arrangement`: pattern lookup, cell facets, the cached geometry;
- :mod:`.evaluate`: ``cert(lambda)`` over a pattern list by whichever of the two applies;
- :mod:`.dual`: the dual program over a few cells, solved directly.
"""
