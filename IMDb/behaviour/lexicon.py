"""The words the behavioural suite's templates are filled with, by placeholder name.

Invented names and film titles, so no real film's reputation leaks into a case. The lists are
plain data: a template such as ``"The {film} was {pos}."`` draws one word per placeholder.
"""
from __future__ import annotations

LEXICON: dict[str, list[str]] = {
    "pos": ["good", "great", "excellent", "wonderful", "brilliant", "superb", "fantastic", "amazing",
            "enjoyable", "entertaining", "moving", "beautiful", "charming", "delightful", "impressive",
            "outstanding", "clever", "engaging", "memorable", "touching"],
    "neg": ["bad", "terrible", "awful", "boring", "dull", "horrible", "poor", "weak", "tedious",
            "disappointing", "stupid", "lame", "mediocre", "pointless", "unwatchable", "painful",
            "forgettable", "predictable", "annoying", "pathetic"],
    "int": ["very", "really", "extremely", "incredibly", "truly", "absolutely", "remarkably"],
    "red": ["somewhat", "a bit", "fairly", "rather", "slightly", "mildly", "kind of"],
    "film": ["film", "movie", "picture"],
    "aspect": ["acting", "plot", "script", "dialogue", "direction", "soundtrack", "cinematography",
               "ending", "story", "pacing"],
    "cast_adj": ["good", "great", "talented", "wonderful", "strong", "fine"],
    "name": ["John Miller", "Mary Chen", "Ahmed Karimi", "Mei Tanaka", "Carlos Ortega", "Olga Petrova",
             "Kwame Mensah", "Priya Raman", "Tom Becker", "Sofia Rossi", "Lars Nilsson", "Amara Obi",
             "Diego Alvarez", "Hana Novak", "Peter Walsh", "Leila Haddad"],
    "title": ["The Silent Harbor", "Midnight Run to Dover", "Paper Kingdoms", "A Winter in Lisbon",
              "The Last Lighthouse", "Broken Compass", "Summer of Glass", "The Iron Orchard",
              "Night Train to Nowhere", "Seven Small Rooms", "The Copper Garden", "Echoes of Tomorrow"],
    "role": ["detective", "teacher", "soldier", "doctor", "singer", "farmer", "lawyer", "pilot"],
    "n": ["2", "3", "4", "5", "7", "10", "12", "20"],
    "year": ["1978", "1985", "1994", "2001", "2006", "2011"],
}

# complete sentences that settle a review's sentiment (the DIR tests append them)
POSITIVE_SENTENCES = ["I loved every minute of it.", "Highly recommended.", "One of the best films of the year.",
                      "I will happily watch it again.", "A real pleasure from start to finish.",
                      "Easily a ten out of ten."]
NEGATIVE_SENTENCES = ["I want my two hours back.", "Avoid it.", "A complete waste of time.",
                      "I almost walked out.", "One of the worst films I have seen.", "Easily a one out of ten."]

# sentiment-neutral sentences a carrier paragraph is made of (real-length context for each case)
NEUTRAL_SENTENCES = [
    "The film runs for about {n}0 minutes and was shot on location in a coastal town.",
    "It follows a {role} who moves back to the family farm after many years away.",
    "Most of the story takes place over a single summer in {year}.",
    "The cast includes several actors who are better known for their work on television.",
    "The screenplay is adapted from a novel that was published in {year}.",
    "I watched it on a Sunday evening with two friends from work.",
    "The DVD comes with a commentary track and a short documentary about the production.",
    "The music was written by a composer who has worked with the director before.",
    "It opened in cinemas in {year} and was later shown on cable.",
    "The plot involves a long journey across the country and an old family secret.",
    "There are flashbacks to the main character's childhood in the first half.",
    "The second half moves the action to a large city.",
    "Several scenes were filmed at night in a real train station.",
    "The director also wrote the script and appears briefly as a waiter.",
]
