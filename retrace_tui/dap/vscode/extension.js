// The retrace-tui debugger in VS Code: debug sessions of type "retrace" run the debug
// adapter `retrace-tui dap` (it speaks DAP on stdin/stdout). Which command starts it:
// the setting retrace.adapterCommand, else adapter.json (written beside this file by
// `retrace-tui dap --write-vscode-extension`: that environment's Python), else
// `retrace-tui dap` from the PATH.
"use strict";
const vscode = require("vscode");
const fs = require("fs");
const path = require("path");

function adapterCommand() {
  const configured = vscode.workspace.getConfiguration("retrace").get("adapterCommand") || [];
  if (configured.length) {
    return configured;
  }
  try {
    const written = JSON.parse(fs.readFileSync(path.join(__dirname, "adapter.json"), "utf8"));
    if (Array.isArray(written.command) && written.command.length) {
      return written.command;
    }
  } catch (error) {
    // no adapter.json: the extension was installed from its source folder
  }
  return ["retrace-tui", "dap"];
}

function activate(context) {
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory("retrace", {
    createDebugAdapterDescriptor() {
      const [command, ...args] = adapterCommand();
      return new vscode.DebugAdapterExecutable(command, args);
    },
  }));
}

function deactivate() {}

module.exports = { activate, deactivate };
