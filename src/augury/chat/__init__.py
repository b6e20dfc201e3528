"""Chat: chatbots for a use case that answer from its knowledge (see ``models``)."""
