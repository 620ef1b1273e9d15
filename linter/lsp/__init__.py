"""``vmsslint server``: the language server (LSP over stdio).  Needs the ``lsp`` extra (pygls, lsprotocol);
only that command imports this package."""
