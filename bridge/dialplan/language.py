"""A line's fixed phrases in its callers' language, for every one its YAML leaves unset.

A dialplan whose `recognition.language` has a table here starts from these texts instead of
the English defaults; anything the YAML says itself stands. The rules agent's own sentences
are in `bridge/agent/phrases.py`.
"""

from __future__ import annotations

from typing import Any

# Dotted paths into the dialplan, as written in YAML.
DEFAULT_TEXTS: dict[str, dict[str, Any]] = {
    "es": {
        "greeting": "Hola, ¿en qué puedo ayudarle?",
        "goodbye": "Gracias por llamar. ¡Adiós!",
        "reprompt": (
            "Perdone, puedo informarle del estado de un pedido o comunicarle con un departamento."
        ),
        "call.fillers": ["Un momento."],
        "call.keepalives": ["Gracias por esperar, sigo con ello."],
        "call.not_heard": "Perdone, no le he entendido. ¿Puede repetirlo?",
        "call.voice_failed": "Lo siento, tengo problemas para hablar en este momento.",
        "call.idle.reprompt": "¿Sigue ahí?",
        "agent.filler_phrases": ["Un momento, por favor.", "Un segundo, lo estoy comprobando."],
        "agent.fallback.repeat": "Perdone, no le he entendido. ¿Puede repetirlo?",
        "agent.fallback.hold": "Lo siento, tengo un problema. Espere un momento, por favor.",
        "agent.fallback.transfer_notice": "Le comunico con alguien que pueda ayudarle.",
        "agent.fallback.callback_promise": (
            "Lo siento, ahora no puedo ayudarle. Le devolveremos la llamada lo antes posible."
        ),
        "overflow.message": (
            "Lo sentimos, todas nuestras líneas están ocupadas. Vuelva a llamar en unos minutos."
        ),
        # Without {outcome}: the outcomes are filled in English (call/returns.py).
        "transfer_returned": (
            "Lo siento, no he podido comunicarle con {department}. Puedo intentarlo con otro "
            "departamento, tomar un mensaje o pedir que le llamen. ¿Qué prefiere?"
        ),
        "recording.announcement": (
            "Esta llamada puede ser grabada por motivos de calidad y formación."
        ),
    },
}


def with_language_defaults(data: Any) -> Any:
    """The raw dialplan with its language's texts filled in where it sets none."""
    if not isinstance(data, dict):
        return data
    recognition = data.get("recognition")
    language = recognition.get("language") if isinstance(recognition, dict) else None
    texts = DEFAULT_TEXTS.get(str(language))
    if texts is None:
        return data
    filled = dict(data)
    for dotted, text in texts.items():
        *parents, leaf = dotted.split(".")
        node = filled
        for part in parents:
            child = node.get(part, {})
            if not isinstance(child, dict):
                break  # set as an object already: its own defaults stand
            node[part] = node = dict(child)
        else:
            node.setdefault(leaf, text)
    return filled
