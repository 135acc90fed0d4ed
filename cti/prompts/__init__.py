"""The voice menu's sounds: speech synthesis, telecom staff's recordings, delivery to Asterisk.

``audio`` runs the programs (espeak-ng, sox), ``library`` names, caches and delivers the files
(Asterisk's sounds directory, or this product's ``/sounds/`` URL), ``errors`` says what failed.
"""
