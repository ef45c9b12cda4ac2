/* The charge form (and the override form, marked data-price-editor): show only the chosen model's
 * fields, add tier rows, and keep the live example up to date. The example is priced by the server (charge/preview/); nothing here does money math.
 * One price editor (tier rows + example) serves the default price and each filter's price: a
 * filter's fields carry the prefix "filters-N-price-", stripped when its example is asked for. */
(function () {
    "use strict";

    function start() {
        var form = document.getElementById("charge_form") || document.querySelector("form[data-price-editor]");
        var config = document.getElementById("charge-model-fields");
        if (!form || !config) {
            return;
        }
        var modelFields = JSON.parse(config.textContent);
        var allFields = [];
        Object.keys(modelFields).forEach(function (model) {
            modelFields[model].forEach(function (name) {
                if (allFields.indexOf(name) < 0) {
                    allFields.push(name);
                }
            });
        });
        var exampleBox = document.getElementById("charge-example");
        // The override form prices a discount on the plan's price too: no model chosen there.
        var withoutModel = Boolean(exampleBox && exampleBox.dataset.withoutModel === "1");
        var editors = [{
            prefix: "",
            tierBox: document.getElementById("charge-tiers"),
            sentence: document.getElementById("example-sentence"),
            breakdown: document.getElementById("example-breakdown"),
            sequence: 0
        }];
        form.querySelectorAll(".plans-filter[data-prefix]").forEach(function (box) {
            editors.push({
                prefix: box.dataset.prefix,
                tierBox: box.querySelector(".plans-tier-box"),
                sentence: box.querySelector(".example-sentence"),
                breakdown: box.querySelector(".example-breakdown"),
                sequence: 0
            });
        });

        function tiersPrefix(editor) {
            return editor.prefix ? editor.prefix + "-tiers" : "tiers";
        }

        function editorOf(element) {
            for (var i = editors.length - 1; i >= 0; i--) {
                if (editors[i].tierBox && editors[i].tierBox.contains(element)) {
                    return editors[i];
                }
            }
            return editors[0];
        }

        function selectedModel() {
            var checked = form.querySelector("input[name=charge_model]:checked");
            if (checked) {
                return checked.value;
            }
            var select = form.querySelector("select[name=charge_model]");
            return select ? select.value : "";
        }

        function show(element, visible) {
            if (element) {
                element.style.display = visible ? "" : "none";
            }
        }

        function toggle() {
            var model = selectedModel();
            var wanted = modelFields[model] || [];
            allFields.forEach(function (name) {
                form.querySelectorAll(".field-" + name).forEach(function (row) {
                    show(row, wanted.indexOf(name) >= 0);
                });
            });
            show(form.querySelector("fieldset.plans-charge-properties"), wanted.length > 0);
            editors.forEach(function (editor) {
                show(editor.tierBox, model === "graduated" || model === "volume");
            });
            show(exampleBox, model !== "" || withoutModel);
        }

        function renumber(editor) {
            var number = 0;
            editor.tierBox.querySelectorAll("tr.tier-row").forEach(function (row) {
                var removed = row.querySelector("input[name$='-DELETE']");
                number += removed && removed.checked ? 0 : 1;
                row.querySelector(".tier-number").textContent = removed && removed.checked ? "–" : String(number);
            });
        }

        function addTier(editor) {
            var prefix = tiersPrefix(editor);
            var tierRows = editor.tierBox.querySelector(".tier-rows");
            var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
            var index = parseInt(total.value, 10);
            var html = editor.tierBox.querySelector("template.tier-template").innerHTML.replace(/__prefix__/g, String(index));
            var rows = tierRows.querySelectorAll("tr.tier-row");
            var previous = rows.length ? rows[rows.length - 1] : null;
            tierRows.insertAdjacentHTML("beforeend", html);
            total.value = String(index + 1);
            // Start the new tier right after the previous one ends (whole units; no prices here).
            var previousEnd = previous ? previous.querySelector("input[name$='-to_value']").value.trim() : "";
            if (/^\d+$/.test(previousEnd)) {
                var start = (BigInt(previousEnd) + BigInt(1)).toString();
                document.getElementById("id_" + prefix + "-" + index + "-from_value").value = start;
            }
            renumber(editor);
            var added = document.getElementById("id_" + prefix + "-" + index + "-to_value");
            if (added) {
                added.focus();
            }
            schedule();
        }

        var timer = null;

        function render(editor, data) {
            var sentence = editor.sentence;
            var breakdown = editor.breakdown;
            var body = breakdown.querySelector("tbody");
            body.textContent = "";
            if (!data.ok) {
                sentence.classList.add("plans-example-problem");
                sentence.textContent = "No example yet: " + (data.errors || []).join(" ");
                breakdown.hidden = true;
                return;
            }
            sentence.classList.remove("plans-example-problem");
            sentence.textContent = data.sentence;
            data.breakdown.forEach(function (row) {
                var tr = document.createElement("tr");
                [row.label, row.units, row.unit_price, row.flat_amount, row.amount].forEach(function (value, i) {
                    var td = document.createElement("td");
                    td.textContent = value;
                    if (i > 0) {
                        td.className = "number";
                    }
                    tr.appendChild(td);
                });
                body.appendChild(tr);
            });
            breakdown.hidden = data.breakdown.length === 0;
        }

        function exampleData(editor) {
            var all = new FormData(form);
            if (!editor.prefix) {
                return all;
            }
            // The filter's own fields under the names the default price uses, so the same
            // preview prices them; the model, the example units and the CSRF token are shared.
            var data = new FormData();
            var own = editor.prefix + "-";
            all.forEach(function (value, name) {
                if (name.indexOf(own) === 0) {
                    data.append(name.slice(own.length), value);
                }
            });
            ["csrfmiddlewaretoken", "charge_model", "example_units"].forEach(function (name) {
                if (all.has(name)) {
                    data.append(name, all.get(name));
                }
            });
            if (!data.has("charge_model")) {
                data.append("charge_model", selectedModel());
            }
            return data;
        }

        function refreshEditor(editor) {
            if (!editor.sentence) {
                return;
            }
            var mine = ++editor.sequence;
            fetch(exampleBox.dataset.previewUrl, {
                method: "POST",
                body: exampleData(editor),
                credentials: "same-origin",
                headers: {"X-Requested-With": "XMLHttpRequest"}
            }).then(function (response) {
                return response.json();
            }).then(function (data) {
                if (mine === editor.sequence) {
                    render(editor, data);
                }
            }).catch(function () {
                if (mine === editor.sequence) {
                    editor.sentence.classList.add("plans-example-problem");
                    editor.sentence.textContent = "The example could not be computed.";
                }
            });
        }

        function refresh() {
            if (!exampleBox || !(selectedModel() || withoutModel)) {
                return;
            }
            editors.forEach(refreshEditor);
        }

        function schedule() {
            window.clearTimeout(timer);
            timer = window.setTimeout(refresh, 250);
        }

        form.addEventListener("input", schedule);
        form.addEventListener("change", function (event) {
            if (event.target.name === "charge_model") {
                toggle();
            }
            if (/-DELETE$/.test(event.target.name || "")) {
                renumber(editorOf(event.target));
            }
            schedule();
        });
        form.addEventListener("click", function (event) {
            var button = event.target.closest ? event.target.closest("button.add-tier") : null;
            if (button) {
                addTier(editorOf(button));
            }
        });
        toggle();
        refresh();
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}());
