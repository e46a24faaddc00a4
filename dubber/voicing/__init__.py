"""A dub from text: subtitle lines voiced one by one, and an edited dub re-voiced only where it changed.

    match   the given cues against the cues of what was voiced before: kept, re-timed or to voice (pure)
    plan    which speech stays where it was, which moves, and which lines are voiced anew (pure)
"""
