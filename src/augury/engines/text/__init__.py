"""Text science: sentence segmentation, reading documents from files (PDF text layers
and OCR included), annotator agreement, embeddings, zero-shot and trained classifiers,
and aspect-based sentiment. Pure code over strings and arrays, shared by the text
domain, the `augury text` file commands and the benchmarks.
"""
