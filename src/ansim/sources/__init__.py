"""Readers for every outside format: bytes in, validated DataFrames or records out, no store access.

Each reader accepts a plain or gzip file in UTF-8, UTF-8 with BOM or CP949/EUC-KR and raises
:class:`ansim.errors.InputError` naming the file, the 1-based data row, the column and the reason.
"""
