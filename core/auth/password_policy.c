/*
 * password_policy.c - which new staff passwords are refused: shorter than
 * SB_PASSWORD_MIN characters, or one of the passwords people pick first
 * (a common word or keyboard run, perhaps with digits or symbols added at
 * either end, or letters swapped for look-alike digits).
 *
 * Every place that sets a password asks here: the admin API (add, reset),
 * a user changing their own, and the CLI (`user add|reset-password`).
 * The list is our own short one, written for this file: the few hundred
 * choices that guessing tools try first. It does not need to be long;
 * the lockouts (api_auth.c) make an attacker's guesses few.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"

/* Lower case; compared after the normalisation in base_word(). */
/* A list, not code: kept compact. */
/* clang-format off */
static const char *const common[] = {
    "password", "passwort", "passwd", "pass", "pasword", "senha", "parola", "contrasena",
    "motdepasse", "wachtwoord", "salasana", "haslo", "qwerty", "qwertz", "azerty", "qwertyuiop",
    "asdfghjkl", "asdfgh", "asdf", "zxcvbnm", "zxcvbn", "qazwsx", "qweasd", "qweasdzxc",
    "1q2w3e4r5t", "1q2w3e4r", "1q2w3e", "q1w2e3r4", "1qaz2wsx", "zaq12wsx", "zaq1", "qwe", "abc",
    "abcd", "abcdef", "abcdefg", "abcdefgh", "abcdefghij", "aaaaaa", "iloveyou", "iloveu",
    "loveyou", "love", "lovely", "lover", "letmein", "letitbe", "welcome", "hello", "helloworld",
    "admin", "administrator", "root", "toor", "user", "guest", "login", "test", "tester",
    "testing", "demo", "default", "changeme", "change", "secret", "master", "private", "access",
    "super", "superuser", "system", "server", "computer", "internet", "online", "google",
    "facebook", "yahoo", "microsoft", "windows", "linux", "ubuntu", "debian", "apple", "samsung",
    "switchboard", "support", "service", "customer", "helpdesk", "office", "company", "business",
    "monkey", "dragon", "football", "baseball", "basketball", "soccer", "hockey", "tennis", "golf",
    "golfer", "sunshine", "princess", "shadow", "superman", "batman", "spiderman", "starwars",
    "startrek", "pokemon", "naruto", "trustno", "trustnoone", "michael", "jennifer", "jordan",
    "hunter", "ranger", "rangers", "buster", "harley", "killer", "george", "charlie", "andrew",
    "michelle", "jessica", "pepper", "daniel", "joshua", "maggie", "silver", "william", "dallas",
    "yankees", "ashley", "amanda", "orange", "freedom", "thunder", "nicole", "ginger", "heather",
    "hammer", "summer", "winter", "spring", "autumn", "corvette", "taylor", "austin", "merlin",
    "matthew", "cheese", "martin", "chelsea", "arsenal", "liverpool", "barcelona", "realmadrid",
    "juventus", "patrick", "richard", "diamond", "yellow", "purple", "green", "blue", "black",
    "white", "red", "sparky", "cowboy", "cowboys", "camaro", "anthony", "matrix", "falcon",
    "bailey", "guitar", "jackson", "scooter", "phoenix", "morgan", "tigers", "tiger", "porsche",
    "ferrari", "mercedes", "toyota", "honda", "mustang", "mickey", "maverick", "cookie", "cookies",
    "peanut", "justin", "money", "samantha", "steelers", "joseph", "snoopy", "boomer", "whatever",
    "iceman", "smokey", "dakota", "eagles", "chicken", "please", "andrea", "knight", "melissa",
    "coffee", "chocolate", "booboo", "johnny", "bulldog", "player", "wizard", "scooby", "charles",
    "junior", "brandy", "banana", "monster", "spider", "lakers", "miller", "rabbit", "enter",
    "brandon", "steven", "fender", "yamaha", "diablo", "chris", "boston", "marine", "chicago",
    "gandalf", "barney", "edward", "raiders", "badboy", "bigdaddy", "chester", "london", "paris",
    "berlin", "lisbon", "bucharest", "midnight", "fishing", "hannah", "slayer", "rachel", "redsox",
    "panther", "oliver", "mother", "father", "family", "victoria", "jasper", "angel", "angels",
    "david", "winner", "crystal", "golden", "viking", "shannon", "murphy", "prince", "princesa",
    "cameron", "madison", "wilson", "carlos", "startup", "jasmine", "butter", "angela", "lauren",
    "rocket", "tiffany", "theman", "dennis", "flower", "flowers", "forever", "jackie", "muffin",
    "turtle", "sophie", "packers", "newyork", "casper", "bubba", "sandra", "lovers", "mountain",
    "united", "cooper", "driver", "tucker", "helpme", "pookie", "lucky", "maxwell", "gemini",
    "canada", "nathan", "victor", "florida", "nicholas", "rosebud", "metallica", "doctor",
    "trouble", "success", "stupid", "tomcat", "warrior", "peaches", "apples", "magic", "buddy",
    "dolphin", "dolphins", "rainbow", "gunner", "freddy", "alexis", "braves", "cocacola", "pepsi",
    "xavier", "bond", "member", "calvin", "voodoo", "samson", "alex", "apollo", "fire", "walter",
    "voyager", "peter", "bonnie", "beer", "scorpio", "scorpion", "jonathan", "skippy", "sydney",
    "scott", "power", "gordon", "travis", "star", "stars", "flyers", "rebecca", "doggie", "legend",
    "yankee", "blazer", "runner", "birdie", "parker", "topgun", "heaven", "viper", "animal",
    "bigboy", "arthur", "baby", "babygirl", "babyboy", "godzilla", "donald", "williams", "phantom",
    "rock", "august", "sammy", "cool", "brian", "platinum", "jake", "bronco", "broncos", "paul",
    "mark", "frank", "copper", "billy", "garfield", "willow", "little", "carter", "albert",
    "kitten", "kitty", "america", "jessie", "house", "free", "chevy", "surfer", "nissan", "saturn",
    "airborne", "elephant", "marvin", "action", "adidas", "nike", "qwert", "kevin", "explorer",
    "walker", "police", "december", "november", "october", "september", "january", "february",
    "march", "april", "june", "july", "monday", "friday", "benjamin", "wolf", "sweet", "sweetie",
    "sweetheart", "therock", "king", "queen", "brooklyn", "cricket", "dexter", "racing", "gregory",
    "dreams", "michigan", "magnum", "nothing", "donkey", "trinity", "digital", "stella", "cartman",
    "guinness", "speedy", "buffalo", "asdfqwer", "qwerasdf", "mypassword", "mypass", "newpassword",
    "passpass", "password password", "letmeinnow", "iloveyou iloveyou", "welcomehome", "whatsup",
    "sunflower", "butterfly", "dragonfly", "fuckyou", "fuckoff", "shit", "bitch", "asshole",
    "superstar", "rockstar", "blink", "slipknot", "nirvana", "eminem", "beatles", "hallo",
    "bonjour", "ciao", "ola", "salut", "benfica", "sporting", "porto", "flamengo", "corinthians",
    "palmeiras", "brasil", "brazil", "portugal", "romania", "steaua", "dinamo", "mamaliga",
    "iubire", "dragoste", "familia", "saudade", "amor", "amore", "teamo", "cristiano", "ronaldo",
    "messi", "neymar", "zidane", "beckham", "jesus", "christ", "god", "lord", "blessed", "faith",
    "hope", "grace", "friends", "friend", "secret secret", "computer1", "pa55word", "zaq1xsw2",
    "zaq1zaq1", "xsw2", "qazxsw", "1qazxsw2", "q1w2e3", "aa", "aaa", "aaaa", "1234qwer",
    "qwer1234", "asdf1234", "abc123", "abcd1234", "a1b2c3", "a1b2c3d4", "trustme",
    "letmein please",
};
/* clang-format on */

/* "P@ssw0rd!2024" -> "password": lower case, look-alike digits and
 * symbols read as letters, digits and punctuation cut off both ends (so
 * an all-digit password becomes ""). */
static void base_word(const char *in, char *out, size_t cap)
{
    size_t n = 0, start = 0, end;
    char tmp[SB_PASSWORD_MAX + 1];

    for (const char *p = in; *p && n + 1 < sizeof(tmp); p++)
        tmp[n++] = (char)tolower((unsigned char)*p);
    tmp[n] = '\0';
    end = n;
    /* at the ends, digits are a year or a counter ("password1"); inside,
     * they stand for letters ("p4ssw0rd") */
    while (start < end && !isalpha((unsigned char)tmp[start]))
        start++;
    while (end > start && !isalpha((unsigned char)tmp[end - 1]))
        end--;
    n = 0;
    for (size_t i = start; i < end && n + 1 < cap; i++) {
        static const char from[] = "@$0134578!", to[] = "asoieastbi";
        const char *k = strchr(from, tmp[i]);
        out[n++] = k ? to[k - from] : tmp[i];
    }
    out[n] = '\0';
}

static bool listed(const char *word)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(common); i++)
        if (strcmp(common[i], word) == 0) return true;
    return false;
}

/* Characters, not bytes: "ãããã" is four. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static size_t distinct_bytes(const char *s)
{
    bool seen[256] = {false};
    size_t n = 0;
    for (; *s; s++)
        if (!seen[(unsigned char)*s]) {
            seen[(unsigned char)*s] = true;
            n++;
        }
    return n;
}

bool sb_password_acceptable(const char *password, char why[SB_PASSWORD_WHY])
{
    char word[SB_PASSWORD_MAX + 1], lower[SB_PASSWORD_MAX + 1];
    size_t len = password ? strlen(password) : 0;

    if (!password || utf8_chars(password) < SB_PASSWORD_MIN) {
        snprintf(why, SB_PASSWORD_WHY, "the password needs at least %d characters",
                 SB_PASSWORD_MIN);
        return false;
    }
    if (len > SB_PASSWORD_MAX) {
        snprintf(why, SB_PASSWORD_WHY, "the password can have at most %d bytes", SB_PASSWORD_MAX);
        return false;
    }
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)password[i]);
    base_word(password, word, sizeof(word));
    if (distinct_bytes(password) < 4 || !word[0] || listed(lower) || listed(word)) {
        snprintf(why, SB_PASSWORD_WHY,
                 "this password is too common or too easy to guess; choose a longer phrase"
                 " of your own");
        return false;
    }
    return true;
}
