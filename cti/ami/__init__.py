"""The edge towards Asterisk's Manager Interface: framing, typed events, the TCP connection."""
