"""What the rules agent says and listens for, per language: one table, not strings scattered
about. A line's language is its `recognition.language`; with `auto`, each turn's detected
language picks the table (English for a language without one).

Patterns match `plain_words` text: lower case, no accents, no punctuation ("that s all").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bridge.agent.words import plain_words


@dataclass(frozen=True)
class Phrases:
    # Said after an answer; a "no" right after it is a goodbye.
    anything_else: str
    # Every question for the order id says this: the next turn looks for one.
    ask_marker: str
    # Every question for a verification answer says this: the next turn is the answer.
    verify_marker: str
    # A goodbye, transfer or opt-out heard unsure is asked about first; these questions mark
    # the next turn as the answer.
    confirm_end: str
    confirm_transfer: str  # followed by " {department}?"
    confirm_opt_out: str
    checking: str  # said while a slow order lookup runs
    ask: str  # {marker} {key}
    ask_again: str  # {marker} {key}
    not_found: str  # {order} {marker}
    cannot_look_up: str
    which_department: str  # {departments}
    connecting: str  # {department}
    not_connected: str
    opt_out_failed: str
    okay: str
    # Reading an order out: "Order 4 5 7 2, your tent, has shipped with UPS and ...".
    order: str  # {order}
    your_item: str  # {item}
    status: dict[str, str]
    other_status: str  # {status}
    with_carrier: str  # {carrier}
    delivered_on: str  # {day}
    arrives_by: str  # {day}
    weekdays: tuple[str, ...]  # Monday first
    months: tuple[str, ...]
    day: str  # {weekday} {month} {day}
    # Lookups that need or fail a verification, or fail outright.
    ask_for: dict[str, str]  # what to tell, per verification method
    verify_question: str  # {ask_for} {marker}
    found_verify: str  # {order} {question} {key}
    mismatch: str  # {question}
    mismatch_final: str
    not_valid: str
    not_allowed: str
    backend_down: str
    key_names: dict[str, str]
    or_word: str
    # What callers say.
    order_talk: re.Pattern[str]
    goodbye: re.Pattern[str]
    decline: re.Pattern[str]
    wants_person: re.Pattern[str]
    affirm: re.Pattern[str]
    asks_about_us: re.Pattern[str]
    opt_out: re.Pattern[str]
    # A message or a call back, when nobody can take the call: asked for with a marker, so
    # the next turn is what to pass on.
    wants_message: re.Pattern[str]
    wants_callback: re.Pattern[str]
    message_marker: str
    callback_marker: str
    ask_message: str  # {marker}
    ask_callback: str  # {marker}
    message_taken: str
    callback_taken: str  # {number}
    # Statuses that take no date, and those said with the carrier.
    no_eta: frozenset[str] = field(default=frozenset({"cancelled", "canceled", "returned"}))
    with_carrier_statuses: frozenset[str] = field(
        default=frozenset({"shipped", "in transit", "out for delivery"})
    )

    def spoken_day(self, when: date) -> str:
        return self.day.format(
            weekday=self.weekdays[when.weekday()], month=self.months[when.month - 1], day=when.day
        )

    def spoken_list(self, words: list[str]) -> str:
        if len(words) < 3:
            return f" {self.or_word} ".join(words)
        return f"{', '.join(words[:-1])}, {self.or_word} {words[-1]}"


ENGLISH = Phrases(
    anything_else="Is there anything else I can help with?",
    ask_marker="order number",
    verify_marker="to confirm it's your order",
    confirm_end="Did you want to end the call?",
    confirm_transfer="Did you want me to connect you to",
    confirm_opt_out="Did you want us to stop calling you?",
    checking="Let me check that order.",
    ask="Sure. What's your {marker}? You can say it, or key it in and press {key}.",
    ask_again=(
        "Sorry, I didn't catch the {marker}. Please say it one digit at a time, "
        "or key it in and press {key}."
    ),
    not_found=(
        "I couldn't find order {order}. Could you say the {marker} again, one digit at a time?"
    ),
    cannot_look_up="Sorry, I can't look up orders on this line.",
    which_department="Of course. Which department would you like: {departments}?",
    connecting="Connecting you to {department}.",
    not_connected="Sorry, I couldn't connect you just now.",
    opt_out_failed="Sorry, I couldn't update our call list just now.",
    okay="Okay.",
    order="Order {order}",
    your_item=", your {item},",
    status={
        "shipped": "has shipped",
        "in transit": "is in transit",
        "out for delivery": "is out for delivery",
        "delivered": "was delivered",
        "processing": "is being processed",
        "pending": "is pending",
        "on hold": "is on hold",
        "cancelled": "was cancelled",
        "canceled": "was cancelled",
        "returned": "was returned",
    },
    other_status="has the status {status}",
    with_carrier=" with {carrier}",
    delivered_on=" on {day}",
    arrives_by=" and should arrive by {day}",
    weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    day="{weekday}, {month} {day}",
    ask_for={"zip": "the ZIP code on the order"},
    verify_question="Could you tell me {ask_for}, {marker}?",
    found_verify="I found order {order}. {question} You can say it, or key it in and press {key}.",
    mismatch="Sorry, that doesn't match the order. {question}",
    mismatch_final="Sorry, that doesn't match, so I can't share that order on this call.",
    not_valid="Sorry, that isn't an order number I can look up.",
    not_allowed=(
        "Sorry, I can only share an order's details on a call from the phone number on the order."
    ),
    backend_down=(
        "Sorry, I can't reach our order system right now. Please try again in a few minutes."
    ),
    key_names={"#": "pound", "*": "star"},
    or_word="or",
    order_talk=re.compile(
        r"\b(orders?|package|parcel|shipment|shipping|delivery|delivered|tracking|track|arrive)\b"
    ),
    goodbye=re.compile(
        r"\b(bye|goodbye|good bye|hang up|that s all|that s it|that is all|that will be all|"
        r"i m done|i am done|no thanks|no thank you|nothing else|i m all set|all set)\b"
    ),
    decline=re.compile(r"^(no|nope|nah|i m good|i am good|i m fine|not really|that s fine)\b"),
    wants_person=re.compile(
        r"\b(human|person|someone|somebody|representative|operator|agent|real person|speak to)\b"
    ),
    affirm=re.compile(r"^(yes|yeah|yep|yup|sure|please|correct|right|that s right|ok|okay)\b"),
    asks_about_us=re.compile(
        r"\b(hours|opening|open today|what time|closing time|address|located|location|"
        r"directions)\b"
    ),
    opt_out=re.compile(
        r"\b((don t|do not|never|stop|quit) (ever )?(call|calling|ring|ringing|phone|phoning)\b|"
        r"(take|remove|delete|cross) (me|my number|this number|us) (off|from)\b|"
        r"don t want (any )?(more |these )?calls|unsubscribe|opt out|do not call list)"
    ),
    wants_message=re.compile(r"\b(message|leave a note|pass (it|this|that) on)\b"),
    wants_callback=re.compile(r"\b(call (me )?back|callback|ring me back|have someone call)\b"),
    message_marker="What message should I pass on",
    callback_marker="What should they call you back about",
    ask_message="Of course. {marker}, and who is it for?",
    ask_callback="Of course. {marker}?",
    message_taken="Thanks, I've taken your message and will pass it on.",
    callback_taken="Thanks. Someone will call you back at {number}.",
)

SPANISH = Phrases(
    anything_else="¿Puedo ayudarle en algo más?",
    ask_marker="número de pedido",
    verify_marker="para confirmar que el pedido es suyo",
    confirm_end="¿Quiere terminar la llamada?",
    confirm_transfer="¿Quiere que le comunique con",
    confirm_opt_out="¿Quiere que dejemos de llamarle?",
    checking="Voy a consultar ese pedido.",
    ask="Claro. ¿Cuál es su {marker}? Puede decirlo o marcarlo en el teclado y pulsar {key}.",
    ask_again=(
        "Perdone, no entendí el {marker}. Dígalo cifra por cifra, "
        "o márquelo en el teclado y pulse {key}."
    ),
    not_found="No encontré el pedido {order}. ¿Puede repetir el {marker}, cifra por cifra?",
    cannot_look_up="Lo siento, en esta línea no puedo consultar pedidos.",
    which_department="Por supuesto. ¿Con qué departamento quiere hablar: {departments}?",
    connecting="Le comunico con {department}.",
    not_connected="Lo siento, no he podido comunicarle ahora mismo.",
    opt_out_failed="Lo siento, no he podido actualizar nuestra lista de llamadas ahora mismo.",
    okay="De acuerdo.",
    order="El pedido {order}",
    your_item=", su {item},",
    status={
        "shipped": "ha sido enviado",
        "in transit": "está en camino",
        "out for delivery": "está en reparto",
        "delivered": "fue entregado",
        "processing": "se está preparando",
        "pending": "está pendiente",
        "on hold": "está retenido",
        "cancelled": "fue cancelado",
        "canceled": "fue cancelado",
        "returned": "fue devuelto",
    },
    other_status="tiene el estado {status}",
    with_carrier=" con {carrier}",
    delivered_on=" el {day}",
    arrives_by=" y debería llegar el {day}",
    weekdays=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    months=(
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    day="{weekday} {day} de {month}",
    ask_for={"zip": "el código postal del pedido"},
    verify_question="¿Me puede decir {ask_for}, {marker}?",
    found_verify=(
        "Encontré el pedido {order}. {question} Puede decirlo o marcarlo en el teclado y "
        "pulsar {key}."
    ),
    mismatch="Lo siento, no coincide con el pedido. {question}",
    mismatch_final="Lo siento, no coincide, así que no puedo darle ese pedido en esta llamada.",
    not_valid="Lo siento, ese no es un número de pedido que pueda consultar.",
    not_allowed=(
        "Lo siento, solo puedo dar los detalles de un pedido en una llamada desde el teléfono "
        "del pedido."
    ),
    backend_down=(
        "Lo siento, ahora mismo no puedo acceder a nuestro sistema de pedidos. Vuelva a "
        "intentarlo en unos minutos."
    ),
    key_names={"#": "almohadilla", "*": "asterisco"},
    or_word="o",
    order_talk=re.compile(
        r"\b(pedidos?|paquete|envio|entrega|entregado|seguimiento|llega|llegara|compra)\b"
    ),
    goodbye=re.compile(
        r"\b(adios|hasta luego|chao|chau|eso es todo|es todo|nada mas|ya esta|"
        r"no gracias|cuelgue|colgar)\b"
    ),
    decline=re.compile(r"^(no|nada|estoy bien|asi esta bien|esta bien asi)\b"),
    wants_person=re.compile(
        r"\b(persona|humano|alguien|agente|operador|operadora|representante|hablar con)\b"
    ),
    affirm=re.compile(r"^(si|claro|vale|correcto|exacto|por favor|de acuerdo|eso es|ok|okay)\b"),
    asks_about_us=re.compile(
        r"\b(horario|horarios|a que hora|abren|cierran|direccion|donde estan|ubicacion)\b"
    ),
    opt_out=re.compile(
        r"\b(no (me )?(vuelvan a )?llam(e|en|ar)|dejen de llamar|(quiten|borren|saquen) "
        r"(me|mi numero)|no quiero (mas )?llamadas|darme de baja)"
    ),
    wants_message=re.compile(r"\b(mensaje|recado|una nota)\b"),
    wants_callback=re.compile(
        r"\b(devuelva(n)? la llamada|me (devuelvan|vuelvan a) llamar|que me llamen|"
        r"llamenme|llameme)\b"
    ),
    message_marker="¿Qué mensaje quiere que les pase",
    callback_marker="¿Sobre qué quiere que le llamemos",
    ask_message="Por supuesto. {marker}, y para quién es?",
    ask_callback="Por supuesto. {marker}?",
    message_taken="Gracias, he tomado su mensaje y lo pasaré.",
    callback_taken="Gracias. Le llamaremos al {number}.",
)

PHRASES = {"en": ENGLISH, "es": SPANISH}


def phrases_for(language: str) -> Phrases:
    """The table for `language` (an ISO 639-1 code), English for one without a table."""
    return PHRASES.get(language, ENGLISH)


# An agent question that these match asks for digits: the caller's next turn is heard in
# digits mode (call/digits_mode.py). Matched on plain words (no case, accents or punctuation).
_ASKS_FOR_DIGITS = re.compile(
    r"\b(order (number|id)|zip( code)?|postal code|account number|phone number|digits|"
    r"key (it |them )?in|numero de pedido|codigo postal|numero de cuenta|digitos|"
    r"marcarlo|marquelo|teclee)\b"
)


def asks_for_digits(agent_text: str) -> bool:
    """Whether the agent's words ask the caller for an order number, a ZIP or other digits."""
    return bool(_ASKS_FOR_DIGITS.search(plain_words(agent_text)))
