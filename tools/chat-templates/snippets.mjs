// Small templates, one Jinja feature each, rendered by both references into tests/Chat/Fixtures/jinja-snippets.json.
// They pin down the renderer feature by feature (whitespace control, loops, filters, tests, operators, methods),
// where the chat templates in make-fixtures.mjs only reach what real models happen to use.
const xs = [3, 1, 2];
const people = [
  { name: "Ann", age: 31, role: "user" },
  { name: "Bo", age: 25, role: "assistant", tool_calls: [] },
  { name: "Cy", age: 40, role: "user" },
];
const d = { b: 2, a: 1, c: 3 };

export const SNIPPETS = [
  // Whitespace control, as HF renders: trim_blocks and lstrip_blocks on, '-' strips.
  { name: "trim_blocks", template: "{% if true %}\nyes\n{% endif %}\nafter" },
  { name: "lstrip_blocks", template: "line\n    {% if true %}\n    indented\n    {% endif %}\nend" },
  { name: "lstrip_not_mid_line", template: "a  {% if true %}b{% endif %}  c" },
  { name: "dash_strips_all_whitespace", template: "a  \n\n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c" },
  { name: "dash_in_expressions", template: "x  \n {{- 'y' -}} \n  z" },
  { name: "comments", template: "a{# one #}b\n{# two -#}\n   c {#- three #}d" },
  { name: "trailing_newline_dropped", template: "text\n" },
  { name: "plus_keeps_whitespace", template: "line\n    {%+ if true %}x{% endif +%}\nend" },
  { name: "raw_block", template: "{% raw %}{{ not rendered }} {% if %}{% endraw %}!" },
  { name: "string_escapes", template: "{{ 'tab\\there\\nnew \\'q\\' \\\\ \\u00e9' }}|{{ \"dq \\\" \" }}" },
  // Loops.
  { name: "loop_variables", template: "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ 'F' if loop.first }}{{ 'L' if loop.last }}{{ loop.length }};{% endfor %}", variables: { xs } },
  { name: "loop_else", template: "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in xs %}{{ x }}{% else %}never{% endfor %}", variables: { xs } },
  { name: "loop_filter", template: "{% for x in xs if x > 1 %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}", variables: { xs } },
  { name: "loop_break_continue", template: "{% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}" },
  { name: "loop_unpacking", template: "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %}", variables: { d } },
  { name: "loop_over_dict_keys", template: "{% for k in d %}{{ k }}{% endfor %}", variables: { d } },
  { name: "loop_previtem_nextitem", template: "{% for x in xs %}{{ loop.previtem if loop.previtem is defined else '-' }}{{ loop.nextitem if loop.nextitem is defined else '-' }} {% endfor %}", variables: { xs } },
  { name: "nested_loops", template: "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}" },
  // Assignment and scope.
  { name: "set_and_scope", template: "{% set y = 1 %}{% for x in xs %}{% set y = x %}{% endfor %}{{ y }}{% if true %}{% set y = 9 %}{% endif %}{{ y }}", variables: { xs } },
  { name: "namespace", template: "{% set ns = namespace(total=0, seen=[]) %}{% for x in xs %}{% set ns.total = ns.total + x %}{% endfor %}{{ ns.total }}", variables: { xs } },
  { name: "set_block", template: "{% set greeting %}Hello {{ name }}{% endset %}[{{ greeting }}]", variables: { name: "Ann" } },
  { name: "set_tuple", template: "{% set a, b = [1, 2] %}{{ a }}{{ b }}" },
  { name: "macro", template: "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', punct='?') }} {{ greet(name='Cy') }}" },
  // Expressions.
  { name: "arithmetic", template: "{{ 7 + 2 }} {{ 7 - 2 }} {{ 7 * 2 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1.5 + 1 }} {{ 4 / 2 }}" },
  { name: "precedence", template: "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 - 2 - 3 }} {{ 2 * 3 % 4 }} {{ -2 + 5 }}" },
  { name: "concat", template: "{{ 'a' ~ 1 ~ 'b' }} {{ 'x' + 'y' }} {{ [1] + [2, 3] }}" },
  { name: "comparisons", template: "{{ 'y' if 1 < 2 else 'n' }}{{ 'y' if 2 <= 2 else 'n' }}{{ 'y' if 'a' < 'b' else 'n' }}{{ 'y' if 1 == 1.0 else 'n' }}{{ 'y' if 'a' != 'b' else 'n' }}{{ 'y' if 1 < 2 < 3 else 'n' }}{{ 'y' if 3 > 2 > 2 else 'n' }}" },
  { name: "membership", template: "{{ 'y' if 'b' in 'abc' else 'n' }}{{ 'y' if 2 in xs else 'n' }}{{ 'y' if 'a' in d else 'n' }}{{ 'y' if 'z' not in d else 'n' }}{{ 'y' if 5 not in xs else 'n' }}", variables: { xs, d } },
  { name: "boolean_logic", template: "{{ 'y' if true and not false else 'n' }}{{ 'y' if false or true else 'n' }}{{ xs and 'truthy' }}|{{ [] or 'empty' }}|{{ 'y' if not [] else 'n' }}{{ 'y' if not (1 == 2) else 'n' }}", variables: { xs } },
  { name: "conditional_without_else", template: "[{{ 'shown' if true }}][{{ 'hidden' if false }}]" },
  { name: "literals", template: "{{ [1, 'two', [3]] | length }} {{ {'k': 'v', 'n': 2}['k'] }} {{ (1, 2)[1] }} {{ 'a' 'b' }} {{ 1_000 }}" },
  { name: "printing_values", template: "{{ true }} {{ none }} {{ [1, 'a', none] }} {{ {'k': true} }} {{ 2.50 }} {{ undefined_name }}." },
  // Indexing, slicing and attributes.
  { name: "indexing", template: "{{ xs[0] }}{{ xs[-1] }}{{ people[1].name }}{{ people[1]['age'] }}{{ d['c'] }}{{ 'hello'[1] }}{{ 'hello'[-1] }}", variables: { xs, people, d } },
  { name: "slicing", template: "{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ 'héllo wörld'[1:4] }} {{ 'abc'[::-1] }} {{ xs[5:] }} {{ xs[-10:1] }}", variables: { xs } },
  { name: "missing_key_is_undefined", template: "{{ 'u' if d.zzz is undefined }}{{ 'u' if people[0].tool_calls is not defined }}{{ 'd' if people[1].tool_calls is defined }}{{ 'u' if xs[10] is undefined }}", variables: { d, people, xs } },
  // String methods.
  { name: "string_methods", template: "[{{ '  pad  '.strip() }}][{{ '  pad  '.lstrip() }}][{{ '  pad  '.rstrip() }}][{{ 'Mixed Case'.upper() }}][{{ 'Mixed Case'.lower() }}][{{ 'hello world'.title() }}][{{ 'a,b,,c'.split(',') }}][{{ '  a  b c '.split() }}][{{ 'a-b-c'.split('-', 1) }}]" },
  { name: "string_predicates", template: "{{ 'y' if 'prefix_x'.startswith('prefix') else 'n' }}{{ 'y' if 'x.json'.endswith(('.txt', '.json')) else 'n' }}{{ 'aaa'.replace('a', 'b') }}{{ 'aaa'.replace('a', 'b', 2) }}" },
  { name: "strip_with_characters", template: "[{{ '\\n\\nthink\\n'.strip('\\n') }}][{{ 'xxhixx'.lstrip('x') }}][{{ '  keep\\n'.rstrip('\\n') }}]" },
  // Dict methods.
  { name: "dict_methods", template: "{{ d.get('a') }}{{ d.get('zz', 'dflt') }}{{ d.get('zz') is none }}{{ d.keys() | list | length }}{% for v in d.values() %}{{ v }}{% endfor %}", variables: { d } },
  // Filters.
  { name: "string_filters", template: "[{{ '  x  ' | trim }}][{{ 'ab' | upper }}][{{ 'AB' | lower }}][{{ 'hello WORLD' | capitalize }}][{{ 'hello world' | title }}][{{ 'a-b' | replace('-', '+') }}][{{ 'abc' | length }}]" },
  { name: "sequence_filters", template: "{{ xs | first }}{{ xs | last }}{{ xs | length }}{{ xs | join(',') }}|{{ xs | sort | join }}|{{ xs | reverse | list | join }}|{{ ['b', 'A', 'c'] | sort | join }}|{{ [1, 2, 2, 1] | unique | list | join }}", variables: { xs } },
  { name: "default_filter", template: "[{{ missing | default('dflt') }}][{{ '' | default('dflt') }}][{{ '' | default('dflt', true) }}][{{ none | default('dflt', true) }}][{{ missing | d('short') }}]" },
  { name: "conversion_filters", template: "{{ '42' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ 3 | string ~ '!' }} {{ 'abc' | list | join('.') }} {{ -3 | abs }}" },
  { name: "tojson", template: "{{ d | tojson }}|{{ people[0] | tojson }}|{{ ['ü', '\"q\"', 'back\\\\slash', 'new\\nline'] | tojson }}|{{ [1.5, true, none] | tojson }}", variables: { d, people } },
  { name: "tojson_indent_and_sorting", template: "{{ {'b': [1, {'c': []}], 'a': {}} | tojson(indent=2) }}\n{{ d | tojson(sort_keys=true) }}", variables: { d } },
  { name: "select_and_map", template: "{{ people | selectattr('role', 'equalto', 'user') | map(attribute='name') | join(',') }}|{{ people | rejectattr('role', 'equalto', 'user') | map(attribute='name') | join }}|{{ people | selectattr('tool_calls', 'defined') | map(attribute='name') | join }}|{{ people | selectattr('tool_calls', 'undefined') | map(attribute='name') | join }}|{{ xs | select('odd') | join }}|{{ xs | reject('odd') | join }}|{{ people | map(attribute='missing', default='?') | join }}", variables: { people, xs } },
  { name: "indent_filter", template: "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(4, true) }}" },
  { name: "more_filters", template: "{{ people | sort(attribute='age') | map(attribute='name') | join }}|{{ people | sort(attribute='name', reverse=true) | map(attribute='name') | join }}|{{ d | dictsort | tojson }}|{{ 2.567 | round(2) }}|{{ 'one two  three' | wordcount }}|{{ '<a & b>' | escape }}|{{ people | map(attribute='name') | map('lower') | join }}", variables: { people, d } },
  { name: "loop_cycle", template: "{% for x in xs %}{{ loop.cycle('odd', 'even') }} {% endfor %}", variables: { xs } },
  { name: "items_filter", template: "{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %}", variables: { d } },
  // Tests.
  { name: "tests", template: "{{ 'y' if x is defined else 'n' }}{{ 'y' if nope is undefined else 'n' }}{{ 'y' if n is none else 'n' }}{{ 'y' if 's' is string else 'n' }}{{ 'y' if d is mapping else 'n' }}{{ 'y' if xs is iterable else 'n' }}{{ 'y' if 's' is iterable else 'n' }}{{ 'y' if xs is sequence else 'n' }}{{ 'y' if 3 is number else 'n' }}{{ 'y' if 3 is integer else 'n' }}{{ 'y' if 3 is odd else 'n' }}{{ 'y' if 4 is even else 'n' }}{{ 'y' if 9 is divisibleby 3 else 'n' }}{{ 'y' if 'a' is equalto 'a' else 'n' }}{{ 'y' if t is true else 'n' }}{{ 'y' if f is false else 'n' }}{{ 'y' if 'abc' is lower else 'n' }}{{ 'y' if 'ABC' is upper else 'n' }}{{ 'y' if d is not string else 'n' }}", variables: { x: 1, n: null, d, xs, t: true, f: false } },
  // Globals.
  { name: "range_and_namespace_from_dict", template: "{{ range(3) | join }}|{{ range(1, 7, 2) | join }}|{{ range(3, 0, -1) | join }}" },
  { name: "raise_exception", template: "before{{ raise_exception('custom failure: ' ~ reason) }}", variables: { reason: "roles" } },
  // Errors.
  { name: "unknown_filter", template: "{{ 'x' | no_such_filter }}" },
  { name: "attribute_of_undefined", template: "{{ missing.attribute }}" },
  { name: "unclosed_block", template: "{% if true %}never closed" },
];
