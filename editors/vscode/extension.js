// Starts `cowspec lsp` for .cow files; everything else (diagnostics, hover, go to
// definition, completion) is the language server's.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("cowspec").get("command", "cowspec");
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "cowspec",
    "cowspec",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "cowspec" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
