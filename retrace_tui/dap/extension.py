"""Writes the VS Code extension shipped in the package: a folder and a ``.vsix``.

`code --install-extension` takes a ``.vsix`` (a zip with a manifest), not a folder, so
both are written: the folder to read or to copy into ``~/.vscode/extensions``, the
``.vsix`` to install. Beside the extension goes ``adapter.json``, the command that
starts this environment's adapter (``python -m retrace_tui dap`` with the Python that
wrote it), so VS Code finds it even when ``retrace-tui`` is not on its PATH.
"""
from __future__ import annotations

import json
import sys
import zipfile
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

FILES = ("package.json", "extension.js", "README.md")

CONTENT_TYPES = """<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension=".json" ContentType="application/json"/>
<Default Extension=".js" ContentType="application/javascript"/>
<Default Extension=".md" ContentType="text/markdown"/>
<Default Extension=".vsixmanifest" ContentType="text/xml"/>
</Types>
"""

MANIFEST = """<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011" \
xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">
  <Metadata>
    <Identity Language="en-US" Id="{name}" Version="{version}" Publisher="{publisher}"/>
    <DisplayName>{display}</DisplayName>
    <Description xml:space="preserve">{description}</Description>
    <Tags>debuggers,python,time-travel</Tags>
    <Categories>Debuggers</Categories>
    <GalleryFlags>Public</GalleryFlags>
    <Properties>
      <Property Id="Microsoft.VisualStudio.Code.Engine" Value="{engine}"/>
      <Property Id="Microsoft.VisualStudio.Code.ExtensionDependencies" Value=""/>
      <Property Id="Microsoft.VisualStudio.Code.ExtensionPack" Value=""/>
      <Property Id="Microsoft.VisualStudio.Code.ExtensionKind" Value="workspace"/>
    </Properties>
  </Metadata>
  <Installation>
    <InstallationTarget Id="Microsoft.VisualStudio.Code"/>
  </Installation>
  <Dependencies/>
  <Assets>
    <Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true"/>
  </Assets>
</PackageManifest>
"""


def shipped() -> dict[str, bytes]:
    """The extension's files as installed with the package."""
    folder = resources.files("retrace_tui.dap").joinpath("vscode")
    return {name: folder.joinpath(name).read_bytes() for name in FILES}


def adapter_command() -> list[str]:
    return [sys.executable, "-m", "retrace_tui", "dap"]


def write(directory: str) -> tuple[Path, Path]:
    """Write DIR/retrace-tui-debug/ and DIR/retrace-tui-debug-VERSION.vsix; their paths."""
    files = shipped()
    files["adapter.json"] = (json.dumps({"command": adapter_command()}, indent=2) + "\n").encode()
    package = json.loads(files["package.json"])
    root = Path(directory)
    folder = root / package["name"]
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    vsix = root / f"{package['name']}-{package['version']}.vsix"
    manifest = MANIFEST.format(name=escape(package["name"]), version=escape(package["version"]),
                               publisher=escape(package["publisher"]), display=escape(package["displayName"]),
                               description=escape(package["description"]), engine=escape(package["engines"]["vscode"]))
    with zipfile.ZipFile(vsix, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("extension.vsixmanifest", manifest)
        for name, data in files.items():
            archive.writestr(f"extension/{name}", data)
    return folder, vsix
