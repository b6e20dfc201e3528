"""The science of chat: token counts, passages, retrieval (BM25 and vectors, fused),
the offline answer and the prompt with its guards. Pure: nothing else of augury."""
