# Brown form C to plain text: a blank-line-separated block is a paragraph, each line a sentence of
# word/tag tokens. The words are kept, `` and '' become double quotes, and punctuation is glued back the
# way it is printed. A headline line (every tag ends in -hl) stays a paragraph of its own.
function sentence(line,   n, t, i, w, s, glue, head) {
  n = split(line, t, /[ \t]+/); s = ""; glue = 1; head = 1
  for (i = 1; i <= n; i++) {
    if (t[i] == "") continue
    if (t[i] !~ /-hl$/) head = 0
    w = t[i]; sub(/\/[^\/]*$/, "", w)
    if (w == "``") { s = s (glue ? "" : " ") "\""; glue = 1; continue }
    if (w == "''") { s = s "\""; glue = 0; continue }
    if (w ~ /^([,.;:?!)\]}']|\.\.\.)$/) { s = s w; glue = 0; continue }
    s = s (glue ? "" : " ") w
    glue = (w == "(" || w == "[" || w == "{")
  }
  headline = head
  return s
}
function flush() { if (para != "") print para; para = "" }
/^[ \t]*$/ { flush(); next }
{ s = sentence($0)
  if (s == "") next
  if (headline) { flush(); print s; next }
  para = (para == "" ? s : para " " s) }
END { flush() }
  