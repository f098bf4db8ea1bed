"""Build tests/exports/contacts_libreoffice.ods: a contacts list saved from LibreOffice Calc.

An .ods is a zip: ``mimetype`` (stored, first), ``content.xml`` with the table, ``META-INF/manifest.xml``.
Written by hand so the fixture needs no ODF library; run ``python tests/exports/build_ods.py`` to rebuild.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).parent
HEADER = ["ID", "Фамилия", "Имя", "Отчество", "Мобильный телефон", "Домашний телефон", "E-mail", "Компания",
          "Город", "Skype", "Дата изменения"]
ROWS = [
    ["1", "Петров", "Иван", "Сергеевич", "8 (916) 123-45-67", "8 (495) 765-43-21", "ivan.petrov@mail.ru",
     "ООО «Ромашка»", "Москва", "ivan.petrov", "12.03.2025"],
    ["2", "Сидорова", "Мария", "Игоревна", "+7 903 111 22 33", "8 (495) 123-45", "maria@yandex.ru", "АО «Вектор»",
     "Санкт-Петербург", "", "01.02.2024"],
    ["3", "Кузнецов", "Пётр", "", "89261234567", "", "p.kuznetsov@gmail.com", "ИП Кузнецов П.А.", "Казань",
     "", "15.06.2023"],
]
MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"


def _row(values: list[str]) -> str:
    cells = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>'
        if v else "<table:table-cell/>" for v in values)
    return f"<table:table-row>{cells}</table:table-row>"


def content_xml() -> str:
    rows = "".join(_row(r) for r in [HEADER, *ROWS])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Контакты">'
        f'<table:table-column table:number-columns-repeated="{len(HEADER)}"/>{rows}'
        '</table:table></office:spreadsheet></office:body></office:document-content>'
    )


MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIMETYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '</manifest:manifest>'
)


def build(path: Path = HERE / "contacts_libreoffice.ods") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content_xml(), compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
    return path


if __name__ == "__main__":
    print(build())
