"""The public works registry: what creators want for each work, answered to AI pipelines in
bulk by any identifier they hold (docs/api.md, "Works registry").

Built on ``works`` (identifiers, files, the perceptual-hash index) and ``consent`` (decisions,
the published work object). Named apart from the registry of AI developers (``notices``, the
``registry:`` URLs and the registry manager role). Nothing imports it but ``portal``.
"""
