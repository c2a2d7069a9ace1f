"""The wizard's stylesheet. A 16-colour terminal (``-colours16`` on the app) loses the
inputs' shade of grey: there they get colours of their own."""

CSS = """
Label { text-style: bold; }
Input { border: none; height: 1; padding: 0 1; margin-bottom: 1; background: $boost; }
Input:focus { background: $primary 40%; }
Select { margin-bottom: 1; }
.row { height: auto; }
.row Input { width: 1fr; }
.row Select, .row Button { width: 30; }
.note { color: $text-muted; }
.error { color: $error; }
SelectionList { height: auto; max-height: 8; }
#first-message { border: round $primary; padding: 0 1; }
#go { margin-top: 1; }
#bar { display: none; }
#bar.running { display: block; }
Footer.-compact FooterLabel { margin-right: 1; }
App.-colours16 Input { background: ansi_bright_black; color: ansi_bright_white; }
App.-colours16 Input:focus { background: ansi_blue; }
App.-colours16 Input > .input--placeholder, App.-colours16 Input > .input--suggestion {
    color: ansi_black; }
"""
