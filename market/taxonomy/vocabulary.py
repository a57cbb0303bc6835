"""The words the demo catalog is made of.

Everything here is data: the category tree, the invented brands that make things in each top-level
category, and for every subcategory the product nouns, attribute values, price range and the phrases a
product description is assembled from. `market.taxonomy.demo_catalog` combines them into products.

Rules the data keeps, so the generated text stays coherent:

* Colour words appear only in the colour palettes. Brands, models, nouns, uses and features never name a
  colour, so a product's title and description can only mention the colour its attributes say it has.
* A noun never claims something an attribute might contradict (there is no "Wireless" noun next to a
  connectivity attribute that can be "wired").
* Brands, models and product lines are invented; none is a real trademark.
* Prices are whole US dollars; the generator converts and rounds them per currency.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

# An attribute's possible values: a tuple, or a mapping from the product's gender to a tuple (sizes).
AttributeValues = tuple[str, ...] | Mapping[str, tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class Subcategory:
    """One leaf of the category tree and everything needed to describe a product in it."""

    path: str  # below the root, e.g. "Running" or "Audio > Headphones"
    nouns: tuple[str, ...]  # what the product is called, title-cased: "Trail Running Shoe"
    price: tuple[int, int]  # lowest and highest price in whole US dollars
    attributes: Mapping[str, AttributeValues]  # chosen in this order; sizes may depend on gender
    uses: tuple[str, ...]  # what it is for, phrased to follow the noun: "for long runs on pavement"
    features: tuple[str, ...]  # noun phrases: "a breathable upper"
    lead: str | None = None  # attribute that reads as an adjective before the noun: "mesh", "wireless"
    tail: str | None = None  # attribute worth quoting after the title: size, capacity, pieces
    tail_format: str = "{}"
    models: tuple[str, ...] = ()  # named lines or themes that replace the root's numbered models


@dataclasses.dataclass(frozen=True)
class RootCategory:
    name: str
    brands: tuple[str, ...]
    models: tuple[str, ...]  # model names, to which the generator may add a generation or edition
    subcategories: tuple[Subcategory, ...]


# --- colour palettes: the only place colour words live -------------------------------------------------

SHOE_COLORS = ("black", "white", "grey", "navy", "royal blue", "red", "olive", "brown", "coral", "teal")
APPAREL_COLORS = (
    "black",
    "white",
    "navy",
    "heather grey",
    "charcoal",
    "olive",
    "khaki",
    "burgundy",
    "forest green",
    "royal blue",
    "red",
    "blush pink",
    "beige",
)
GEAR_COLORS = ("black", "charcoal", "olive", "navy", "orange", "red", "teal", "forest green", "blue")
TECH_COLORS = ("black", "white", "silver", "space grey", "midnight blue", "sage green")
KITCHEN_COLORS = ("matte black", "white", "red", "sage green", "navy", "charcoal")
HOME_COLORS = ("white", "ivory", "grey", "navy", "sage green", "blush pink", "charcoal")
FITNESS_COLORS = ("black", "charcoal", "teal", "purple", "blush pink", "sage green", "blue")
MAKEUP_COLORS = ("red", "pink", "coral", "berry", "nude", "burgundy", "mauve")
PLUSH_COLORS = ("brown", "grey", "pink", "white", "blue")
PET_COLORS = ("black", "red", "blue", "grey", "pink", "olive", "orange")
BABY_COLORS = ("white", "grey", "sage green", "blush pink", "sky blue", "mustard yellow")
OFFICE_COLORS = ("black", "grey", "navy", "white", "burgundy", "forest green")
LIGHTING_COLORS = ("black", "bronze", "white", "silver")

# --- sizes ---------------------------------------------------------------------------------------------

MEN_SHOE_SIZES = ("7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12", "13")
WOMEN_SHOE_SIZES = ("5", "5.5", "6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "11")
SHOE_SIZES = {"men": MEN_SHOE_SIZES, "women": WOMEN_SHOE_SIZES}
LETTER_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
BOTTOM_SIZES = {
    "men": ("28", "30", "32", "34", "36", "38", "40"),
    "women": ("0", "2", "4", "6", "8", "10", "12", "14"),
    "unisex": LETTER_SIZES,
}
BABY_SIZES = ("newborn", "0-3 months", "3-6 months", "6-12 months", "12-18 months")

# --- the tree ------------------------------------------------------------------------------------------

SHOES = RootCategory(
    name="Shoes",
    brands=("Stridewell", "Cairn & Crest", "Loamstep", "Veloce Footwear", "Harbor Lane"),
    models=(
        "Cadence",
        "Tempo",
        "Switchback",
        "Ridgeline",
        "Fleetfoot",
        "Pacer",
        "Meridian",
        "Outpace",
        "Longtrail",
        "Drift",
    ),
    subcategories=(
        Subcategory(
            path="Running",
            nouns=("Running Shoe", "Road Running Shoe", "Trail Running Shoe", "Racing Flat"),
            price=(60, 220),
            attributes={
                "gender": ("men", "women"),
                "size": SHOE_SIZES,
                "color": SHOE_COLORS,
                "material": ("engineered mesh", "knit", "recycled mesh"),
            },
            uses=(
                "for daily training runs",
                "for long runs on pavement",
                "for tempo sessions and race day",
                "for mixed road and trail miles",
            ),
            features=(
                "a responsive foam midsole",
                "a breathable upper",
                "a durable rubber outsole",
                "a padded heel collar",
                "reflective details for early-morning runs",
                "an 8 mm heel-to-toe drop",
                "a removable cushioned insole",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Hiking",
            nouns=("Hiking Boot", "Hiking Shoe", "Mid Hiking Boot", "Backpacking Boot"),
            price=(80, 280),
            attributes={
                "gender": ("men", "women"),
                "size": SHOE_SIZES,
                "color": SHOE_COLORS,
                "material": ("full-grain leather", "suede and mesh", "waterproof nubuck"),
            },
            uses=(
                "for day hikes on rocky trails",
                "for multi-day backpacking trips",
                "for wet and muddy terrain",
                "for steep scrambles and loose ground",
            ),
            features=(
                "a waterproof, breathable membrane",
                "a deep-lugged rubber outsole",
                "a protective rubber toe cap",
                "a supportive midsole shank",
                "a gusseted tongue that keeps debris out",
                "speed-lace hooks at the ankle",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Casual > Sneakers",
            nouns=("Sneaker", "Low-Top Sneaker", "Slip-On Sneaker", "Court Sneaker"),
            price=(45, 160),
            attributes={
                "gender": ("men", "women"),
                "size": SHOE_SIZES,
                "color": SHOE_COLORS,
                "material": ("canvas", "leather", "suede", "knit"),
            },
            uses=("for everyday wear", "for weekends around town", "for travel days and long walks"),
            features=(
                "a cushioned footbed",
                "a vulcanized rubber sole",
                "a padded collar",
                "a classic lace-up design",
                "a removable insole",
                "a stitched toe bumper",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Boots",
            nouns=("Chelsea Boot", "Work Boot", "Winter Boot", "Lace-Up Boot"),
            price=(90, 300),
            attributes={
                "gender": ("men", "women"),
                "size": SHOE_SIZES,
                "color": SHOE_COLORS,
                "material": ("leather", "suede", "waterproof leather"),
            },
            uses=("for cold, wet days", "for all-day wear", "for city streets and country lanes"),
            features=(
                "a slip-resistant outsole",
                "a warm fleece lining",
                "elastic side panels",
                "a stitched welt construction that can be resoled",
                "a cushioned removable footbed",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Sandals",
            nouns=("Sport Sandal", "Slide Sandal", "Flip-Flop", "Hiking Sandal"),
            price=(25, 120),
            attributes={
                "gender": ("men", "women"),
                "size": SHOE_SIZES,
                "color": SHOE_COLORS,
                "material": ("rubber", "leather", "recycled webbing"),
            },
            uses=(
                "for beach days and poolside lounging",
                "for river crossings and summer hikes",
                "for warm-weather errands",
            ),
            features=(
                "a contoured footbed",
                "adjustable hook-and-loop straps",
                "a quick-drying design",
                "a grippy rubber outsole",
                "a water-friendly build",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
    ),
)

APPAREL = RootCategory(
    name="Apparel",
    brands=("Northloom", "Fable & Field", "Kindred Thread", "Alder Supply", "Mistral Athletic"),
    models=("Essential", "Everyday", "Heritage", "Weekender", "Studio", "Coastline", "Commuter", "Field"),
    subcategories=(
        Subcategory(
            path="Tops",
            nouns=("T-Shirt", "Crewneck Sweater", "Oxford Shirt", "Henley", "Polo Shirt", "Hoodie"),
            price=(15, 120),
            attributes={
                "gender": ("men", "women", "unisex"),
                "size": LETTER_SIZES,
                "color": APPAREL_COLORS,
                "material": ("organic cotton", "merino wool", "linen", "cotton jersey", "french terry"),
            },
            uses=(
                "for everyday layering",
                "for the office and the weekend",
                "for travel",
                "for cool evenings",
            ),
            features=(
                "a relaxed, true-to-size fit",
                "reinforced shoulder seams",
                "pre-shrunk fabric that holds its shape",
                "a soft brushed interior",
                "a tagless neckline",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Outerwear",
            nouns=(
                "Rain Jacket",
                "Puffer Jacket",
                "Fleece Jacket",
                "Parka",
                "Softshell Jacket",
                "Insulated Vest",
            ),
            price=(50, 350),
            attributes={
                "gender": ("men", "women", "unisex"),
                "size": LETTER_SIZES,
                "color": APPAREL_COLORS,
                "material": ("recycled polyester", "nylon ripstop", "polar fleece", "waxed cotton"),
            },
            uses=(
                "for wet commutes",
                "for cold-weather layering",
                "for hikes when the forecast turns",
                "for travel and everyday wear",
            ),
            features=(
                "an adjustable hood",
                "zippered hand pockets",
                "a packable design that stows in a pocket",
                "elastic cuffs that seal out wind",
                "a drop hem for extra coverage",
                "a water-repellent finish",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Bottoms",
            nouns=("Chino Pant", "Five-Pocket Pant", "Jogger", "Cargo Short", "Hiking Pant"),
            price=(25, 140),
            attributes={
                "gender": ("men", "women", "unisex"),
                "size": BOTTOM_SIZES,
                "color": APPAREL_COLORS,
                "material": ("stretch cotton twill", "denim", "organic cotton", "nylon stretch"),
            },
            uses=("for everyday wear", "for the office and the weekend", "for trail days and travel"),
            features=(
                "a comfortable mid-rise waist",
                "deep front pockets",
                "a gusseted crotch for mobility",
                "a tapered leg",
                "reinforced belt loops",
                "a zippered security pocket",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Activewear",
            nouns=("Leggings", "Running Shorts", "Training Tee", "Track Jacket", "Quarter-Zip Pullover"),
            price=(20, 130),
            attributes={
                "gender": ("men", "women", "unisex"),
                "size": LETTER_SIZES,
                "color": APPAREL_COLORS,
                "material": ("recycled polyester", "nylon spandex", "merino blend"),
            },
            uses=(
                "for gym sessions and studio classes",
                "for runs in any weather",
                "for yoga and stretching",
            ),
            features=(
                "moisture-wicking fabric",
                "flatlock seams that prevent chafing",
                "four-way stretch",
                "a hidden key pocket",
                "odor-resistant fibers",
                "ventilation panels",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
    ),
)

ELECTRONICS = RootCategory(
    name="Electronics",
    brands=("Auralis", "Voltwise", "Brightwire", "Halcyon", "Ohmfield"),
    models=("Pulse", "Arc", "Vertex", "Nova", "Orbit", "Flux", "Pitch", "Axis", "Relay", "Prism"),
    subcategories=(
        Subcategory(
            path="Audio > Headphones",
            nouns=("Over-Ear Headphones", "On-Ear Headphones", "Earbuds", "In-Ear Monitors", "Sport Earbuds"),
            price=(20, 400),
            attributes={
                "connectivity": ("wireless", "wired", "Bluetooth 5.3"),
                "color": TECH_COLORS,
                "noise_control": ("active noise cancelling", "passive noise isolation"),
            },
            uses=(
                "for commuting and travel",
                "for focused work",
                "for workouts and runs",
                "for long listening sessions",
            ),
            features=(
                "a built-in microphone for calls",
                "soft memory-foam cushions",
                "a fold-flat travel design",
                "deep, balanced bass",
                "a lightweight adjustable fit",
                "a carrying case",
            ),
            lead="connectivity",
        ),
        Subcategory(
            path="Audio > Speakers",
            nouns=("Portable Speaker", "Bookshelf Speakers", "Soundbar", "Smart Speaker"),
            price=(30, 450),
            attributes={
                "connectivity": ("Bluetooth", "Wi-Fi", "Bluetooth and Wi-Fi"),
                "color": TECH_COLORS,
                "wattage": ("10W", "20W", "40W", "60W", "120W"),
            },
            uses=(
                "for the living room",
                "for backyard gatherings",
                "for movie nights",
                "for the home office",
            ),
            features=(
                "room-filling stereo sound",
                "a companion app with EQ controls",
                "multi-room pairing",
                "a fabric-wrapped enclosure",
                "a built-in microphone for hands-free calls",
            ),
            lead="connectivity",
            tail="wattage",
        ),
        Subcategory(
            path="Accessories > Chargers",
            nouns=("Wall Charger", "Charging Cable", "Power Bank", "Car Charger", "Charging Station"),
            price=(10, 90),
            attributes={
                "connector": ("USB-C", "USB-A to USB-C", "magnetic"),
                "wattage": ("20W", "30W", "45W", "65W", "100W"),
                "color": TECH_COLORS,
            },
            uses=("for phones, tablets and laptops", "for travel", "for the desk and the nightstand"),
            features=(
                "fast charging support",
                "built-in surge protection",
                "a compact, foldable plug",
                "a braided, tangle-resistant cable",
                "an LED charge indicator",
            ),
            lead="connector",
            tail="wattage",
        ),
        Subcategory(
            path="Computer Accessories > Keyboards & Mice",
            nouns=(
                "Mechanical Keyboard",
                "Low-Profile Keyboard",
                "Ergonomic Mouse",
                "Gaming Mouse",
                "Keyboard and Mouse Combo",
            ),
            price=(20, 220),
            attributes={
                "connectivity": ("wireless", "wired", "Bluetooth"),
                "color": TECH_COLORS,
                "layout": ("full-size", "tenkeyless", "compact"),
            },
            uses=("for long workdays", "for gaming", "for a tidy, minimal desk setup"),
            features=(
                "quiet, tactile switches",
                "programmable shortcut keys",
                "adjustable backlighting",
                "a sculpted palm rest",
                "multi-device switching",
            ),
            lead="connectivity",
        ),
        Subcategory(
            path="Smart Home",
            nouns=(
                "Smart Plug",
                "Smart Bulb",
                "Video Doorbell",
                "Indoor Security Camera",
                "Smart Thermostat",
            ),
            price=(15, 250),
            attributes={
                "connectivity": ("Wi-Fi", "Zigbee", "Thread"),
                "color": ("white", "black"),
                "voice_assistant": ("works with major voice assistants", "app control only"),
            },
            uses=(
                "for an automated home",
                "for keeping an eye on things while away",
                "for lower energy bills",
            ),
            features=(
                "a simple app setup",
                "custom schedules",
                "energy usage reports",
                "local control that keeps working offline",
                "encrypted firmware updates",
            ),
            lead="connectivity",
        ),
    ),
)

HOME_AND_KITCHEN = RootCategory(
    name="Home & Kitchen",
    brands=("Copperleaf", "Ember & Oak", "Fairhaven Home", "Kitchara", "Saltmarsh Living"),
    models=("Classic", "Heritage", "Everyday", "Chef Series", "Signature", "Artisan", "Essentials"),
    subcategories=(
        Subcategory(
            path="Cookware > Pans",
            nouns=("Frying Pan", "Skillet", "Saute Pan", "Grill Pan", "Wok"),
            price=(15, 220),
            attributes={
                "material": (
                    "stainless steel",
                    "cast iron",
                    "hard-anodized aluminum",
                    "carbon steel",
                    "ceramic nonstick",
                ),
                "diameter": ("8 in", "10 in", "12 in"),
            },
            uses=(
                "for weeknight searing and sautéing",
                "for high-heat cooking",
                "for eggs, pancakes and fish",
            ),
            features=(
                "even heating from edge to center",
                "a comfortable riveted handle",
                "an oven-safe build",
                "a flared rim for drip-free pouring",
                "a helper handle for easy lifting",
            ),
            lead="material",
            tail="diameter",
        ),
        Subcategory(
            path="Cookware > Pots",
            nouns=("Saucepan", "Dutch Oven", "Stock Pot", "Sauce Pot", "Braiser"),
            price=(25, 300),
            attributes={
                "material": ("stainless steel", "enameled cast iron", "hard-anodized aluminum"),
                "capacity": ("2 qt", "3.5 qt", "5.5 qt", "8 qt"),
                "color": KITCHEN_COLORS,
            },
            uses=("for soups, stews and braises", "for slow-cooked Sunday dinners", "for pasta night"),
            features=(
                "a tight-fitting lid",
                "wide loop handles",
                "a heavy base that resists scorching",
                "measurement markings inside",
                "an oven-safe build",
            ),
            lead="material",
            tail="capacity",
        ),
        Subcategory(
            path="Cutlery",
            nouns=("Chef's Knife", "Santoku Knife", "Paring Knife", "Bread Knife", "Knife Block Set"),
            price=(20, 350),
            attributes={
                "material": ("German stainless steel", "high-carbon stainless steel", "Damascus steel"),
                "handle": ("pakkawood", "walnut", "polymer"),
            },
            uses=("for everyday prep", "for precise slicing and dicing", "for serious home cooks"),
            features=(
                "a razor-sharp hand-honed edge",
                "a full-tang build for balance",
                "a comfortable bolster",
                "a protective blade guard",
                "a blade that holds its edge",
            ),
            lead="material",
        ),
        Subcategory(
            path="Small Appliances",
            nouns=("Electric Kettle", "Blender", "Toaster", "Coffee Grinder", "Stand Mixer", "Air Fryer"),
            price=(25, 450),
            attributes={"wattage": ("600W", "900W", "1200W", "1500W"), "color": KITCHEN_COLORS},
            uses=("for busy mornings", "for small kitchens", "for batch cooking"),
            features=(
                "simple one-touch controls",
                "a dishwasher-safe removable part",
                "an automatic shut-off",
                "a compact footprint",
                "an easy-to-wipe housing",
            ),
            tail="wattage",
        ),
        Subcategory(
            path="Bedding",
            nouns=("Sheet Set", "Duvet Cover", "Quilt", "Pillowcase Pair", "Weighted Blanket"),
            price=(30, 300),
            attributes={
                "material": (
                    "percale cotton",
                    "sateen cotton",
                    "linen",
                    "bamboo lyocell",
                    "brushed microfiber",
                ),
                "bed_size": ("twin", "full", "queen", "king"),
                "color": HOME_COLORS,
            },
            uses=("for cool, comfortable sleep", "for the guest room", "for year-round comfort"),
            features=(
                "breathable fabric that softens with every wash",
                "deep pockets that stay put",
                "corner ties that keep the insert in place",
                "a hidden button closure",
                "fabric tested for harmful substances",
            ),
            lead="material",
            tail="bed_size",
        ),
    ),
)

OUTDOOR = RootCategory(
    name="Outdoor",
    brands=("Cairnline", "Wildmere", "Basecamp Forge", "Larchwood Gear", "Summit & Sparrow"),
    models=(
        "Alpine",
        "Backcountry",
        "Ridgeback",
        "Highline",
        "Talus",
        "Scree",
        "Tundra",
        "Canyon",
        "Overlook",
    ),
    subcategories=(
        Subcategory(
            path="Camping > Tents",
            nouns=("Backpacking Tent", "Dome Tent", "Camping Tent", "Tunnel Tent"),
            price=(80, 600),
            attributes={
                "capacity": ("1-person", "2-person", "4-person", "6-person"),
                "season": ("3-season", "4-season"),
                "material": ("ripstop nylon", "polyester taffeta"),
                "color": GEAR_COLORS,
            },
            uses=("for weekend camping trips", "for backpacking in changing weather", "for festival camping"),
            features=(
                "a full-coverage rainfly",
                "two doors with vestibules",
                "aluminum poles that pack small",
                "taped seams",
                "mesh panels for airflow",
                "interior storage pockets",
            ),
            lead="capacity",
            tail="season",
        ),
        Subcategory(
            path="Camping > Sleeping Bags",
            nouns=(
                "Sleeping Bag",
                "Mummy Sleeping Bag",
                "Rectangular Sleeping Bag",
                "Backpacking Sleeping Bag",
            ),
            price=(60, 450),
            attributes={
                "fill": ("synthetic", "goose down", "duck down"),
                "temperature_rating": ("15°F", "20°F", "30°F", "40°F"),
                "color": GEAR_COLORS,
            },
            uses=("for cold nights under the stars", "for summer car camping", "for alpine trips"),
            features=(
                "a draft collar",
                "an anti-snag zipper",
                "a compression stuff sack",
                "a contoured hood",
                "a water-resistant shell",
            ),
            lead="fill",
            tail="temperature_rating",
        ),
        Subcategory(
            path="Backpacks",
            nouns=("Daypack", "Hiking Backpack", "Backpacking Pack", "Travel Pack"),
            price=(40, 320),
            attributes={
                "volume": ("20 L", "28 L", "40 L", "55 L", "65 L"),
                "material": ("recycled nylon", "ripstop nylon", "waxed canvas"),
                "color": GEAR_COLORS,
            },
            uses=("for day hikes", "for multi-day treks", "for carry-on travel"),
            features=(
                "a ventilated back panel",
                "a padded hip belt",
                "a hydration sleeve",
                "side stretch pockets",
                "an integrated rain cover",
                "lockable zippers",
            ),
            lead="material",
            tail="volume",
        ),
        Subcategory(
            path="Hydration",
            nouns=("Insulated Water Bottle", "Vacuum Tumbler", "Camp Mug", "Insulated Food Jar"),
            price=(15, 60),
            attributes={
                "material": ("stainless steel", "powder-coated stainless steel", "titanium"),
                "volume": ("350 ml", "500 ml", "750 ml", "1 L"),
                "color": GEAR_COLORS,
            },
            uses=("for long days outside", "for the commute", "for camp mornings"),
            features=(
                "double-wall vacuum insulation",
                "a leakproof lid",
                "a wide mouth for ice cubes",
                "a sweat-free exterior",
                "a carry loop",
            ),
            lead="material",
            tail="volume",
        ),
        Subcategory(
            path="Lighting",
            nouns=("Headlamp", "Camping Lantern", "Flashlight"),
            price=(15, 90),
            attributes={
                "power": ("rechargeable", "battery-powered", "solar"),
                "brightness": ("200 lumens", "400 lumens", "800 lumens", "1200 lumens"),
                "color": GEAR_COLORS,
            },
            uses=("for night hikes", "for around the campsite", "for power outages"),
            features=(
                "multiple brightness modes",
                "a night-vision mode",
                "a weather-resistant housing",
                "a battery level indicator",
                "a lock mode that prevents accidental switching on",
            ),
            lead="power",
            tail="brightness",
        ),
    ),
)

SPORTS_AND_FITNESS = RootCategory(
    name="Sports & Fitness",
    brands=("Ironvale", "Kinetic Form", "Pivot Athletics", "Tidewater Sport", "Rallypoint"),
    models=("Core", "Flow", "Elite", "Studio", "Club", "Rally", "Tour", "Pace"),
    subcategories=(
        Subcategory(
            path="Yoga",
            nouns=("Yoga Mat", "Yoga Block", "Yoga Strap", "Meditation Cushion"),
            price=(12, 130),
            attributes={
                "material": ("natural rubber", "cork", "TPE", "recycled foam"),
                "color": FITNESS_COLORS,
            },
            uses=("for daily practice at home", "for hot yoga classes", "for stretching and recovery"),
            features=(
                "a non-slip grip",
                "a lightweight, portable build",
                "alignment markings",
                "an easy-to-clean surface",
                "supportive cushioning",
            ),
            lead="material",
        ),
        Subcategory(
            path="Strength Training",
            nouns=("Adjustable Dumbbell", "Kettlebell", "Hex Dumbbell", "Weight Plate"),
            price=(20, 400),
            attributes={
                "material": ("cast iron", "rubber-coated steel", "vinyl-coated iron"),
                "weight": ("10 lb", "20 lb", "35 lb", "50 lb"),
            },
            uses=("for home gym workouts", "for full-body strength training", "for garage gyms"),
            features=(
                "a knurled handle for a secure grip",
                "a floor-friendly coating",
                "clearly marked weights",
                "a flat base that stays put",
                "a space-saving design",
            ),
            lead="material",
            tail="weight",
        ),
        Subcategory(
            path="Cycling > Helmets",
            nouns=("Road Bike Helmet", "Mountain Bike Helmet", "Commuter Helmet"),
            price=(35, 250),
            attributes={"size": ("S", "M", "L"), "color": GEAR_COLORS},
            uses=("for daily commutes", "for weekend rides", "for riders who want extra protection"),
            features=(
                "an in-mold polycarbonate shell",
                "a dial-fit adjustment system",
                "a removable visor",
                "a rear safety light",
                "wide vents for airflow",
            ),
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Racket Sports",
            nouns=("Tennis Racket", "Pickleball Paddle", "Badminton Racket", "Squash Racket"),
            price=(20, 250),
            attributes={
                "material": ("graphite", "carbon fiber", "aluminum", "fiberglass"),
                "skill_level": ("beginner", "intermediate", "advanced"),
            },
            uses=("for weekend matches", "for club play", "for players moving up a level"),
            features=(
                "a generous sweet spot",
                "a cushioned grip",
                "a head-light balance for quick swings",
                "a protective cover",
                "a vibration-dampening frame",
            ),
            lead="material",
        ),
    ),
)

BEAUTY = RootCategory(
    name="Beauty",
    brands=("Verdant Skin", "Petal & Pestle", "Oriel Apothecary", "Clearwater Labs", "Saffron Row"),
    models=("Daily", "Hydra", "Renew", "Calm", "Glow", "Barrier", "Balance"),
    subcategories=(
        Subcategory(
            path="Skincare",
            nouns=("Face Serum", "Moisturizer", "Gel Cleanser", "Eye Cream", "Toner"),
            price=(8, 90),
            attributes={
                "key_ingredient": (
                    "hyaluronic acid",
                    "niacinamide",
                    "vitamin C",
                    "ceramide",
                    "retinol",
                    "squalane",
                ),
                "volume": ("15 ml", "30 ml", "50 ml", "100 ml", "200 ml"),
                "skin_type": ("dry", "oily", "combination", "sensitive", "normal"),
            },
            uses=("for a simple morning routine", "for overnight repair", "for calming stressed skin"),
            features=(
                "a lightweight, fast-absorbing texture",
                "a fragrance-free formula",
                "dermatologist-tested ingredients",
                "recyclable packaging",
                "a paraben-free formula",
            ),
            lead="key_ingredient",
            tail="volume",
        ),
        Subcategory(
            path="Hair Care",
            nouns=("Shampoo", "Conditioner", "Hair Mask", "Leave-In Conditioner", "Styling Cream"),
            price=(6, 45),
            attributes={
                "key_ingredient": ("argan oil", "keratin", "biotin", "tea tree oil", "shea butter"),
                "volume": ("250 ml", "400 ml", "1 L"),
                "hair_type": ("curly", "fine", "thick", "color-treated", "dry"),
            },
            uses=("for everyday washing", "for frizz control", "for weekly deep conditioning"),
            features=(
                "a sulfate-free formula",
                "a light, clean scent",
                "salon-quality results",
                "a refillable bottle",
                "a silicone-free formula",
            ),
            lead="key_ingredient",
            tail="volume",
        ),
        Subcategory(
            path="Fragrance",
            nouns=("Eau de Parfum", "Eau de Toilette", "Body Mist", "Solid Perfume"),
            price=(15, 180),
            attributes={
                "scent": ("woody", "citrus", "floral", "fresh aquatic", "amber vanilla", "gourmand"),
                "volume": ("10 ml", "30 ml", "50 ml", "100 ml"),
            },
            uses=("for everyday wear", "for evenings out", "for gifting"),
            features=(
                "long-lasting projection",
                "a refillable bottle",
                "a travel-size atomizer",
                "notes that soften into a warm base",
                "a vegan formula",
            ),
            lead="scent",
            tail="volume",
            models=("No. 3", "No. 7", "No. 12", "Voyage", "Reverie", "Solstice"),
        ),
        Subcategory(
            path="Makeup",
            nouns=("Lipstick", "Lip Gloss", "Nail Polish", "Liquid Lipstick", "Lip Tint"),
            price=(6, 40),
            attributes={"finish": ("matte", "satin", "glossy", "shimmer"), "color": MAKEUP_COLORS},
            uses=("for everyday wear", "for long days and nights out", "for a quick touch-up on the go"),
            features=(
                "long-wearing pigment",
                "a vegan, cruelty-free formula",
                "a precise applicator",
                "a hydrating finish",
                "transfer-resistant wear",
            ),
            lead="finish",
        ),
    ),
)

TOYS_AND_GAMES = RootCategory(
    name="Toys & Games",
    brands=("Wonderwise", "Tumbleweed Toys", "Pinecone Play", "Quibble", "Little Lantern"),
    models=("Explorer", "Adventure", "Classic"),
    subcategories=(
        Subcategory(
            path="Building Sets",
            nouns=("Building Set", "Construction Kit", "Brick Set"),
            price=(15, 180),
            attributes={
                "pieces": ("150", "320", "512", "780", "1200"),
                "age_range": ("4+", "6+", "8+", "12+"),
            },
            uses=(
                "for creative independent play",
                "for building together as a family",
                "for budding engineers",
            ),
            features=(
                "step-by-step illustrated instructions",
                "bricks that click together firmly",
                "numbered bags for easier building",
                "a cast of small figures",
                "a sturdy storage box",
            ),
            tail="pieces",
            tail_format="{} Pieces",
            models=(
                "Space Station",
                "Pirate Ship",
                "Fire Station",
                "Castle",
                "Dinosaur Park",
                "Race Car",
                "Treehouse",
            ),
        ),
        Subcategory(
            path="Board Games",
            nouns=("Strategy Board Game", "Family Board Game", "Cooperative Card Game", "Party Game"),
            price=(15, 70),
            attributes={
                "players": ("2-4 players", "2-6 players", "3-8 players"),
                "age_range": ("8+", "10+", "14+"),
                "play_time": ("30 minutes", "45 minutes", "60-90 minutes"),
            },
            uses=("for family game nights", "for parties with friends", "for two-player evenings"),
            features=(
                "quick-to-learn rules",
                "high replay value",
                "sturdy illustrated components",
                "a solo mode",
                "a box insert that keeps every piece organized",
            ),
            tail="players",
            models=(
                "Harbor Traders",
                "Skyward Kingdoms",
                "Dungeon Delve",
                "Garden Rivals",
                "Lost Expedition",
                "Comet Chasers",
            ),
        ),
        Subcategory(
            path="Puzzles",
            nouns=("Jigsaw Puzzle", "3D Puzzle", "Wooden Puzzle"),
            price=(12, 45),
            attributes={"pieces": ("300", "500", "1000", "1500"), "age_range": ("8+", "12+", "adult")},
            uses=("for quiet afternoons", "for a relaxing weekend project", "for puzzle lovers"),
            features=(
                "precision-cut interlocking pieces",
                "a reference poster",
                "glare-free matte print",
                "recycled board",
                "a resealable storage bag",
            ),
            tail="pieces",
            tail_format="{} Pieces",
            models=(
                "Mountain Lake",
                "Coastal Village",
                "Autumn Forest",
                "Night Market",
                "Vintage Maps",
                "Alpine Railway",
            ),
        ),
        Subcategory(
            path="Plush",
            nouns=("Plush Toy", "Stuffed Animal", "Cuddle Pillow"),
            price=(10, 50),
            attributes={
                "height": ("8 in", "12 in", "18 in"),
                "color": PLUSH_COLORS,
                "age_range": ("0+", "3+"),
            },
            uses=("for bedtime cuddles", "for a first birthday gift", "for road trips"),
            features=(
                "extra-soft fabric",
                "embroidered eyes that are safe for little ones",
                "a machine-washable build",
                "a squishy, huggable shape",
            ),
            tail="height",
            models=("Bear", "Bunny", "Fox", "Sloth", "Whale", "Penguin", "Dinosaur"),
        ),
    ),
)

PET_SUPPLIES = RootCategory(
    name="Pet Supplies",
    brands=("Pawsmith", "Whisker Works", "Tailwind Pet", "Hound & Harbor", "Furbelow"),
    models=("Cozy", "Classic", "Explorer", "Everyday", "Adventure", "Comfort"),
    subcategories=(
        Subcategory(
            path="Dogs > Beds",
            nouns=("Dog Bed", "Orthopedic Dog Bed", "Bolster Dog Bed", "Crate Mat"),
            price=(25, 200),
            attributes={
                "size": ("small", "medium", "large", "extra large"),
                "material": ("memory foam", "faux fur", "quilted canvas"),
                "color": PET_COLORS,
            },
            uses=(
                "for senior dogs with achy joints",
                "for dogs who love to curl up",
                "for crates and car rides",
            ),
            features=(
                "a removable, machine-washable cover",
                "a non-skid bottom",
                "a supportive quilted top",
                "a water-resistant liner",
            ),
            lead="material",
            tail="size",
        ),
        Subcategory(
            path="Dogs > Toys",
            nouns=("Chew Toy", "Rope Toy", "Squeaky Toy", "Fetch Ball", "Puzzle Feeder"),
            price=(6, 30),
            attributes={
                "material": ("natural rubber", "cotton rope", "plush", "nylon"),
                "size": ("small", "medium", "large"),
                "color": PET_COLORS,
            },
            uses=("for power chewers", "for games of fetch", "for keeping busy dogs entertained"),
            features=(
                "a durable, tear-resistant build",
                "a treat-dispensing pocket",
                "a satisfying squeaker",
                "a floating design for water play",
            ),
            lead="material",
            tail="size",
        ),
        Subcategory(
            path="Dogs > Collars & Leashes",
            nouns=("Dog Collar", "Leash", "Harness", "Martingale Collar"),
            price=(10, 60),
            attributes={
                "material": ("nylon webbing", "leather", "biothane", "reflective nylon"),
                "size": LETTER_SIZES[:5],
                "color": PET_COLORS,
            },
            uses=("for daily walks", "for trail adventures", "for dogs who pull"),
            features=(
                "a quick-release buckle",
                "reflective stitching",
                "a padded handle",
                "rust-proof hardware",
                "an ID tag ring",
            ),
            lead="material",
            tail="size",
            tail_format="Size {}",
        ),
        Subcategory(
            path="Cats > Scratchers & Trees",
            nouns=("Cat Tree", "Scratching Post", "Cat Condo", "Wall-Mounted Cat Shelf"),
            price=(15, 220),
            attributes={
                "material": ("sisal", "solid wood", "carpeted board"),
                "height": ("18 in", "32 in", "48 in", "60 in"),
            },
            uses=("for indoor cats", "for multi-cat homes", "for saving the sofa"),
            features=(
                "a wide, stable base",
                "a cozy hideaway",
                "replaceable scratching surfaces",
                "a dangling play toy",
                "simple tool-free assembly",
            ),
            lead="material",
            tail="height",
        ),
    ),
)

GARDEN = RootCategory(
    name="Garden",
    brands=("Loam & Leaf", "Fernhill Garden", "Trowel & Twine", "Bramblewood", "Sowright"),
    models=("Classic", "Heritage", "Everyday", "Essentials", "Orchard", "Meadow"),
    subcategories=(
        Subcategory(
            path="Hand Tools",
            nouns=("Hand Trowel", "Pruning Shears", "Garden Fork", "Hori Hori Knife", "Loppers"),
            price=(10, 80),
            attributes={
                "material": ("stainless steel", "carbon steel", "forged steel"),
                "handle": ("ash wood", "fiberglass", "soft-grip rubber"),
            },
            uses=(
                "for planting and weeding",
                "for pruning shrubs and roses",
                "for raised beds and containers",
            ),
            features=(
                "a rust-resistant finish",
                "a comfortable ergonomic grip",
                "a hanging loop",
                "depth markings on the blade",
                "a sharp, replaceable blade",
            ),
            lead="material",
        ),
        Subcategory(
            path="Planters",
            nouns=("Planter", "Raised Garden Bed", "Hanging Planter", "Window Box", "Self-Watering Planter"),
            price=(12, 250),
            attributes={
                "material": (
                    "terracotta",
                    "glazed ceramic",
                    "galvanized steel",
                    "cedar wood",
                    "recycled plastic",
                ),
                "width": ("6 in", "10 in", "14 in", "24 in", "48 in"),
            },
            uses=("for patios and balconies", "for growing herbs and vegetables", "for indoor houseplants"),
            features=(
                "drainage holes",
                "a weather-resistant build",
                "a removable saucer",
                "a frost-resistant finish",
                "a water reservoir",
            ),
            lead="material",
            tail="width",
        ),
        Subcategory(
            path="Watering > Hoses",
            nouns=("Garden Hose", "Expandable Hose", "Soaker Hose", "Hose Reel Cart"),
            price=(20, 120),
            attributes={
                "material": ("rubber", "reinforced vinyl", "polyurethane"),
                "length": ("25 ft", "50 ft", "75 ft", "100 ft"),
            },
            uses=("for lawns and flower beds", "for vegetable gardens", "for washing the car"),
            features=(
                "kink-resistant construction",
                "crush-proof brass fittings",
                "a lightweight, flexible feel",
                "drinking-water-safe materials",
                "a leak-free seal",
            ),
            lead="material",
            tail="length",
        ),
        Subcategory(
            path="Outdoor Lighting",
            nouns=("Path Light Set", "String Lights", "Spotlight", "Wall Lantern"),
            price=(15, 150),
            attributes={"power": ("solar", "plug-in", "battery-powered"), "color": LIGHTING_COLORS},
            uses=(
                "for garden paths and driveways",
                "for patio evenings",
                "for lighting up trees and features",
            ),
            features=(
                "a weatherproof housing",
                "a dusk-to-dawn sensor",
                "warm ambient light",
                "tool-free installation",
                "shatter-resistant bulbs",
            ),
            lead="power",
        ),
    ),
)

OFFICE = RootCategory(
    name="Office",
    brands=("Quillmark", "Deskwell", "Ledgerline", "Paper Harbor", "Inkwell & Oak"),
    models=("Classic", "Studio", "Executive", "Essentials", "Everyday", "Focus"),
    subcategories=(
        Subcategory(
            path="Writing Instruments",
            nouns=("Gel Pen Set", "Fountain Pen", "Rollerball Pen", "Mechanical Pencil", "Fineliner Set"),
            price=(5, 120),
            attributes={
                "material": ("aluminum", "brass", "resin", "recycled plastic"),
                "tip_size": ("0.38 mm", "0.5 mm", "0.7 mm", "1.0 mm"),
                "color": OFFICE_COLORS,
            },
            uses=("for note-taking", "for journaling and sketching", "for signing on the go"),
            features=(
                "smooth, skip-free writing",
                "quick-drying ink",
                "a refillable design",
                "a comfortable weighted barrel",
                "a pocket clip",
            ),
            lead="material",
            tail="tip_size",
        ),
        Subcategory(
            path="Notebooks & Paper",
            nouns=("Hardcover Notebook", "Journal", "Spiral Notebook", "Softcover Notebook", "Notepad"),
            price=(5, 40),
            attributes={
                "ruling": ("dotted", "lined", "grid", "blank"),
                "page_count": ("120 pages", "192 pages", "240 pages"),
                "paper_size": ("A5", "A4", "B5", "pocket"),
                "color": OFFICE_COLORS,
            },
            uses=("for bullet journaling", "for meeting notes", "for sketches and lists"),
            features=(
                "thick paper that resists bleed-through",
                "numbered pages",
                "an elastic closure",
                "a ribbon bookmark",
                "a lay-flat binding",
                "an expandable back pocket",
            ),
            lead="ruling",
            tail="paper_size",
        ),
        Subcategory(
            path="Desk Accessories",
            nouns=("Desk Organizer", "Monitor Stand", "Desk Mat", "Document Tray", "Cable Management Tray"),
            price=(10, 120),
            attributes={
                "material": ("bamboo", "walnut wood", "felt", "powder-coated steel", "vegan leather")
            },
            uses=("for a clutter-free desk", "for the home office", "for better posture at the screen"),
            features=(
                "a non-slip base",
                "cable pass-throughs",
                "a minimalist design",
                "a wipe-clean surface",
                "hidden storage",
            ),
            lead="material",
        ),
        Subcategory(
            path="Office Furniture > Chairs",
            nouns=("Ergonomic Office Chair", "Task Chair", "Drafting Chair", "Executive Chair"),
            price=(90, 600),
            attributes={
                "material": ("mesh", "bonded leather", "fabric", "vegan leather"),
                "color": ("black", "grey", "navy", "white"),
                "max_weight": ("250 lb", "300 lb", "350 lb"),
            },
            uses=("for long workdays", "for the home office", "for standing-height desks"),
            features=(
                "adjustable lumbar support",
                "4D armrests",
                "a synchro-tilt mechanism",
                "smooth-rolling casters",
                "a breathable backrest",
            ),
            lead="material",
        ),
    ),
)

BABY = RootCategory(
    name="Baby",
    brands=("Little Acorn", "Nestling", "Bumble & Bloom", "Snugglewick", "Cradle Cove"),
    models=("Cozy", "Classic", "Dream", "Snug", "Everyday"),
    subcategories=(
        Subcategory(
            path="Feeding",
            nouns=("Baby Bottle Set", "Bib", "Suction Plate", "Sippy Cup", "Snack Cup"),
            price=(6, 45),
            attributes={
                "material": ("silicone", "glass", "BPA-free plastic", "stainless steel"),
                "age_range": ("0+ months", "6+ months", "12+ months"),
                "color": BABY_COLORS,
            },
            uses=("for first foods", "for meals on the go", "for the move from bottle to cup"),
            features=(
                "a spill-proof lid",
                "a dishwasher-safe design",
                "an anti-colic vent",
                "soft, easy-grip handles",
                "a strong suction base",
            ),
            lead="material",
        ),
        Subcategory(
            path="Nursery",
            nouns=("Swaddle Blanket", "Crib Sheet", "Sleep Sack", "Muslin Blanket Set"),
            price=(15, 70),
            attributes={
                "material": ("organic cotton", "bamboo viscose", "muslin cotton", "cotton jersey"),
                "color": BABY_COLORS,
            },
            uses=("for safe, snug sleep", "for naps on the go", "for the nursery"),
            features=(
                "breathable, gentle fabric",
                "a two-way zipper for easy changes",
                "fabric that gets softer with each wash",
                "an elastic all-around fit",
            ),
            lead="material",
        ),
        Subcategory(
            path="Gear > Strollers",
            nouns=("Lightweight Stroller", "Jogging Stroller", "Travel System", "Compact Stroller"),
            price=(90, 700),
            attributes={
                "max_weight": ("40 lb", "50 lb", "55 lb"),
                "color": ("black", "grey", "navy", "sage green"),
            },
            uses=("for city sidewalks", "for travel and airports", "for jogs around the park"),
            features=(
                "a one-hand fold",
                "all-wheel suspension",
                "a large storage basket",
                "a reclining seat",
                "an extendable canopy",
            ),
            tail="max_weight",
        ),
        Subcategory(
            path="Clothing",
            nouns=("Bodysuit Set", "Footed Sleeper", "Romper", "Cardigan"),
            price=(10, 45),
            attributes={
                "size": BABY_SIZES,
                "material": ("organic cotton", "cotton jersey", "merino wool", "bamboo viscose"),
                "color": BABY_COLORS,
            },
            uses=("for everyday wear", "for cozy nights", "for a baby shower gift"),
            features=(
                "envelope shoulders for easy changes",
                "nickel-free snaps",
                "tagless comfort",
                "a fold-over mitten cuff",
            ),
            lead="material",
            tail="size",
        ),
    ),
)

ROOTS: tuple[RootCategory, ...] = (
    SHOES,
    APPAREL,
    ELECTRONICS,
    HOME_AND_KITCHEN,
    OUTDOOR,
    SPORTS_AND_FITNESS,
    BEAUTY,
    TOYS_AND_GAMES,
    PET_SUPPLIES,
    GARDEN,
    OFFICE,
    BABY,
)

# How an attribute reads in the "Details:" sentence of a description; anything else is "<key> <value>".
DETAIL_FORMATS: dict[str, str] = {
    "color": "{}",
    "material": "made of {}",
    "size": "size {}",
    "bed_size": "{} size",
    "capacity": "{} capacity",
    "volume": "{}",
    "pieces": "{} pieces",
    "age_range": "ages {}",
    "skin_type": "for {} skin",
    "hair_type": "for {} hair",
    "players": "{}",
    "play_time": "about {} per game",
    "temperature_rating": "rated to {}",
    "brightness": "{}",
    "wattage": "{} output",
    "weight": "{}",
    "length": "{} long",
    "height": "{} tall",
    "width": "{} wide",
    "diameter": "{} diameter",
    "max_weight": "holds up to {}",
    "page_count": "{}",
    "paper_size": "{} format",
    "ruling": "{} pages",
    "tip_size": "{} tip",
    "handle": "{} handle",
    "fill": "{} fill",
    "season": "{} design",
    "finish": "{} finish",
    "skill_level": "suited to {} players",
    "key_ingredient": "with {}",
    "scent": "{} scent",
    "connectivity": "{} connection",
    "connector": "{} connector",
    "power": "{}",
    "layout": "{} layout",
    "noise_control": "{}",
    "voice_assistant": "{}",
}


def plural(noun: str) -> str:
    """ "running shoe" -> "running shoes", "chef's knife" -> "chef's knives", "leggings" stays."""
    head = noun.rsplit(" ", 1)[-1]
    if head.endswith(("ss", "x", "ch", "sh")):
        return noun + "es"
    if head.endswith("s"):
        return noun
    if head.endswith("y") and head[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    if head.endswith("fe"):
        return noun[:-2] + "ves"
    return noun + "s"
