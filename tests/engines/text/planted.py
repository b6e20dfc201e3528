"""Small planted data sets for the text model tests: written here, so the tests need no
data files and run in seconds.

``INTENTS``: five customer-support intents with twelve phrasings each (the first eight
train, the last four are held out); names and descriptions as a project would give them.
``FEEDBACK``: customer messages of three kinds (sixteen each: ten train, six held
out), whose names and descriptions say less than their examples.
``REVIEWS``: restaurant sentences with aspect categories and polarities.
"""

from __future__ import annotations

INTENTS: dict[str, dict] = {
    "card_arrival": {
        "description": "the customer's new card has not been delivered yet",
        "texts": [
            "my new card still has not arrived",
            "when will my card be delivered",
            "I ordered a card two weeks ago and it is not here",
            "how long does the card take to come in the post",
            "still waiting for my card to show up",
            "is my card on its way",
            "the card you sent never reached me",
            "can I track the delivery of my card",
            "my card has not come yet, what should I do",
            "it has been ten days and no card in the mail",
            "where is the card I was promised",
            "has my replacement card been posted",
        ],
    },
    "exchange_rate": {
        "description": "questions about the currency conversion rate applied",
        "texts": [
            "what exchange rate do you use",
            "how is the rate for euros to dollars calculated",
            "is the currency conversion rate fair",
            "which rate applies when I pay in yen",
            "do you add a margin on top of the exchange rate",
            "where can I see today's conversion rate",
            "how often is the exchange rate updated",
            "why is your euro rate different from the bank's",
            "what rate will I get converting pounds",
            "is the conversion rate the interbank one",
            "how much is one dollar in euros with you",
            "tell me the current exchange rate for francs",
        ],
    },
    "lost_or_stolen_card": {
        "description": "the card was lost or stolen and must be blocked",
        "texts": [
            "I lost my card yesterday",
            "someone stole my wallet with the card in it",
            "please block my card, it was stolen",
            "I cannot find my card anywhere",
            "my card went missing on the train",
            "freeze my card, I think it was taken",
            "a thief has my debit card",
            "I dropped my card somewhere in town",
            "my bag was stolen and my card with it",
            "I misplaced my card, can you cancel it",
            "report my card as lost please",
            "my card was pickpocketed this morning",
        ],
    },
    "top_up_failed": {
        "description": "adding money to the account did not work",
        "texts": [
            "my top up did not go through",
            "I tried to add money but it failed",
            "why was my top-up declined",
            "topping up with my card keeps failing",
            "the money I added never appeared, top up error",
            "top up unsuccessful, what went wrong",
            "I cannot top up my account",
            "adding funds failed twice today",
            "my attempt to top up was rejected",
            "the top-up shows as failed in the app",
            "loading money onto my account does not work",
            "error when I try to top up",
        ],
    },
    "change_pin": {
        "description": "the customer wants a new PIN code",
        "texts": [
            "how do I change my PIN",
            "I want a new pin code",
            "can I reset the PIN on my card",
            "where do I set a different PIN",
            "change the four digit code of my card",
            "I would like to update my PIN number",
            "is it possible to pick my own PIN",
            "how to modify my card's PIN",
            "I need to change my pin please",
            "can the PIN be changed at an ATM",
            "set a new PIN for my debit card",
            "I forgot nothing, I just want another PIN",
        ],
    },
}

TRAIN_PER_INTENT = 8


def intents_split() -> tuple[list[str], list[str], list[str], list[str]]:
    """Train texts and classes, then held-out texts and classes."""
    return split(INTENTS, TRAIN_PER_INTENT)


def intent_classes(with_examples: bool = False) -> list[dict]:
    """The intents as zero-shot classes (name, description, optional examples)."""
    return [
        {
            "name": name,
            "description": intent["description"],
            "examples": intent["texts"][:2] if with_examples else [],
        }
        for name, intent in INTENTS.items()
    ]


FEEDBACK: dict[str, dict] = {
    "praise": {
        "description": "the customer is happy with the product or service",
        "texts": [
            "I love this app, it works perfectly",
            "great service, thank you so much",
            "the staff were wonderful and helpful",
            "fantastic experience, highly recommended",
            "everything was excellent",
            "really happy with my purchase",
            "best support I have ever had",
            "brilliant, fast and easy",
            "you did a great job",
            "amazing quality for the price",
            "thank you, this is exactly what I needed",
            "super friendly people and a lovely shop",
            "works like a charm, very pleased",
            "excellent value and quick delivery",
            "I am delighted with the result",
            "five stars, would buy again",
        ],
    },
    "complaint": {
        "description": "the customer is unhappy about a problem",
        "texts": [
            "the app keeps crashing, this is terrible",
            "awful service, nobody answered",
            "the staff were rude and unhelpful",
            "worst experience ever, never again",
            "everything was broken",
            "really disappointed with my purchase",
            "support ignored my emails for weeks",
            "slow, buggy and confusing",
            "you messed up my order",
            "poor quality for the price",
            "this is not what I ordered and I am angry",
            "unfriendly people and a dirty shop",
            "it stopped working after a day, very annoyed",
            "overpriced and the delivery was late",
            "I am fed up with the delays",
            "one star, would not buy again",
        ],
    },
    "question": {
        "description": "the customer asks how to do something or for information",
        "texts": [
            "how do I reset my password",
            "what are your opening hours",
            "can I change my delivery address",
            "where can I find my invoice",
            "is there a student discount",
            "do you ship to Canada",
            "how long does delivery take",
            "which payment methods do you accept",
            "can I return an item after 30 days",
            "what sizes does this come in",
            "is the shop open on Sunday",
            "how can I contact support",
            "does the price include tax",
            "can I pick up my order in store",
            "how do I cancel my subscription",
            "where is my nearest branch",
        ],
    },
}


def split(data: dict[str, dict], train_per_class: int) -> tuple[list, list, list, list]:
    """Train texts and classes (the first ``train_per_class`` of each), then the rest."""
    train_x, train_y, test_x, test_y = [], [], [], []
    for name, entry in data.items():
        for i, text in enumerate(entry["texts"]):
            if i < train_per_class:
                train_x.append(text)
                train_y.append(name)
            else:
                test_x.append(text)
                test_y.append(name)
    return train_x, train_y, test_x, test_y


def _r(text: str, *aspects: tuple[str, str]) -> dict:
    return {"text": text, "aspects": [{"category": c, "polarity": p} for c, p in aspects]}


REVIEWS: list[dict] = [
    _r("The food was delicious", ("food", "POS")),
    _r("The pasta was cold and bland", ("food", "NEG")),
    _r("Best sushi I have ever had", ("food", "POS")),
    _r("The steak was overcooked and tough", ("food", "NEG")),
    _r("Tasty dishes and fresh ingredients", ("food", "POS")),
    _r("The soup was salty and the bread stale", ("food", "NEG")),
    _r("Our waiter was rude", ("service", "NEG")),
    _r("Friendly and attentive staff", ("service", "POS")),
    _r("We waited an hour for someone to take our order", ("service", "NEG")),
    _r("The waitress was lovely and quick", ("service", "POS")),
    _r("The staff ignored us all evening", ("service", "NEG")),
    _r("Service was prompt and polite", ("service", "POS")),
    _r("Way too expensive for what you get", ("price", "NEG")),
    _r("Very reasonable prices", ("price", "POS")),
    _r("Cheap and cheerful, great value", ("price", "POS")),
    _r("Overpriced drinks", ("price", "NEG")),
    _r("The bill was outrageous", ("price", "NEG")),
    _r("Affordable lunch menu", ("price", "POS")),
    _r("Great food but the waiter was rude", ("food", "POS"), ("service", "NEG")),
    _r("Lovely staff, shame about the bland food", ("service", "POS"), ("food", "NEG")),
    _r("Delicious pizza at a fair price", ("food", "POS"), ("price", "POS")),
    _r("Tiny portions and expensive", ("food", "NEG"), ("price", "NEG")),
    _r("The curry was superb and the staff were kind", ("food", "POS"), ("service", "POS")),
    _r("Slow service and overpriced wine", ("service", "NEG"), ("price", "NEG")),
]
