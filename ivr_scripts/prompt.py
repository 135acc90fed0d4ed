"""Prompts: what the menu says to the caller.

Theory of operation: a prompt is the French text to say plus, optionally, the name of a
recorded sound file (as Asterisk names it, without extension, e.g. ``mairie/bienvenue``).
The text is mandatory: it documents the recording and is the fallback (text-to-speech or
spelled out by SayAlpha) whenever the recording is missing on the PBX.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Prompt(BaseModel):
    """Text to say, with an optional recorded file that says the same thing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(
        description="Texte du message (lu par synthèse vocale si pas d'enregistrement)"
    )
    file: str | None = Field(
        default=None,
        description="Nom du fichier son enregistré, sans extension (ex. mairie/accueil)",
    )
