"""The SDM-MR definition: items, versions, value sets and concept equivalences.

Public modules: ``bamara.sdm.definition`` (versions and items), ``bamara.sdm.concepts``
(normalising codes across versions), ``bamara.sdm.storage`` (where items are stored),
``bamara.sdm.guide`` (variables guide). See docs/sdm.md.
"""
