"""Text into model inputs: the one tokenizer contract (`tokenizer`) and its two kinds, words (`word_tokenizer`)
and WordPiece (`wordpiece`)."""
