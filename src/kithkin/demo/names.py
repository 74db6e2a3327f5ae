"""Word lists for the demo generator: names from many cultures and plain-language concerns.

All combinations are invented; any resemblance to a real person is chance."""

from __future__ import annotations

GIVEN_NAMES: tuple[str, ...] = (
    # A mix of cultures and generations, as a city practice would see.
    "Aaliyah", "Abdi", "Ada", "Adebayo", "Aditi", "Agnieszka", "Ahmed", "Aiko", "Aisha",
    "Alejandro", "Alexei", "Amara", "Amir", "Ana", "Andile", "Anjali", "Aroha", "Arturo",
    "Ayesha", "Bartek", "Beatriz", "Bilal", "Bronwen", "Callum", "Carmen", "Chen", "Chidi",
    "Ciara", "Dalia", "Daniel", "Darius", "Deepa", "Dmitri", "Ebony", "Eilidh", "Elif",
    "Emeka", "Emma", "Esi", "Fatima", "Farid", "Fiona", "Gareth", "Grace", "Hamza", "Hana",
    "Hiroshi", "Ibrahim", "Ifeoma", "Ines", "Ioana", "Isla", "Jamal", "Jana", "Javier",
    "Jin", "Joanna", "Jomo", "Kai", "Kamala", "Karim", "Kasia", "Kemal", "Kwame", "Lars",
    "Leila", "Liam", "Lin", "Lucia", "Mai", "Malik", "Mara", "Marek", "Maryam", "Mateo",
    "Mehmet", "Mei", "Mihai", "Mohammed", "Nadia", "Naledi", "Nasrin", "Niamh", "Nikhil",
    "Noor", "Oksana", "Olu", "Omar", "Owen", "Parisa", "Pedro", "Priya", "Rafael", "Rahul",
    "Rania", "Reza", "Rhys", "Rosa", "Ruth", "Saanvi", "Samira", "Santiago", "Sean",
    "Seo-yeon", "Shira", "Siobhan", "Sipho", "Sofia", "Somchai", "Sunita", "Tariq",
    "Tendai", "Thandiwe", "Tomasz", "Tuan", "Valentina", "Vikram", "Wei", "Yara", "Yasmin",
    "Yusuf", "Zainab", "Zanele", "Zofia",
)  # fmt: skip

FAMILY_NAMES: tuple[str, ...] = (
    "Abara", "Achebe", "Adeyemi", "Ahmadi", "Ali", "Andersen", "Asante", "Banda", "Begum",
    "Bianchi", "Brennan", "Campbell", "Castillo", "Chaudhry", "Chen", "Choi", "Costa",
    "Davies", "Dlamini", "Doherty", "Dubois", "Evans", "Farah", "Fernandes", "Fraser",
    "Gallagher", "García", "Ghosh", "Gonzalez", "Haddad", "Hashemi", "Hughes", "Ibrahim",
    "Iyer", "Jaramillo", "Jensen", "Johnson", "Kaur", "Kelly", "Khan", "Kim", "Kowalski",
    "Kumar", "Lee", "Lewandowska", "MacLeod", "Mahlangu", "Mensah", "Morales", "Murphy",
    "Mwangi", "Nakamura", "Nguyen", "Novak", "Nowak", "Obi", "O'Brien", "Okafor", "Okonkwo",
    "Olsen", "Osei", "Owusu", "Patel", "Pereira", "Petrov", "Popescu", "Rahman", "Ramírez",
    "Reid", "Rossi", "Sato", "Schmidt", "Shah", "Silva", "Singh", "Sokolova", "Suleiman",
    "Tanaka", "Taylor", "Thomas", "Tran", "Walker", "Wang", "Williams", "Wiśniewski",
    "Yamamoto", "Yilmaz", "Zhang",
)  # fmt: skip

PRESENTING_CONCERNS: tuple[str, ...] = (
    "Flashbacks after a road traffic collision; avoiding driving",
    "Nightmares and poor sleep since a house fire",
    "Feeling cut off from family after leaving an abusive relationship",
    "Panic in crowded places since an assault",
    "Grief and numbness after a sudden bereavement",
    "Startles easily and stays on guard since military service",
    "Low mood and isolation after a workplace injury",
    "Memories of childhood abuse returning; trouble trusting people",
    "Avoiding hospitals after a difficult birth",
    "Anger and irritability since a violent robbery at work",
    "Feeling unsafe at home after a burglary",
    "Intrusive images after witnessing a serious accident",
    "Withdrawn from friends since losing a home in a flood",
    "Shame and self-blame after sexual violence",
    "Stopped going out after being attacked in the street",
    "Distress on anniversaries of a loss; drinking more to cope",
    "Trouble concentrating and sleeping since an emergency call-out at work",
    "Feels detached and unreal since an intensive care stay",
    "Avoids public transport after a train incident",
    "Fear of being followed after stalking; has moved house twice",
    "Persistent guilt after surviving a crash in which a friend died",
    "Recently arrived after fleeing war; sleep broken, missing family",
    "Tense and watchful after years of bullying at work",
    "Loneliness and low mood since caring for a partner who died",
    "Flashbacks to a dog attack; avoiding parks",
    "Difficulty being touched since a medical procedure went wrong",
    "Hard to leave the house since a fall; worried about being alone",
    "Relationship strain since returning from deployment",
    "Nightmares after a fire at a neighbour's flat",
    "Feeling on edge and tearful since a miscarriage",
)  # fmt: skip

RELATIONSHIPS: tuple[str, ...] = (
    "Sister", "Brother", "Partner", "Mother", "Father", "Friend", "Daughter", "Son",
    "Neighbour", "Cousin", "Aunt", "Flatmate", "Friend from church", "Colleague",
)  # fmt: skip
