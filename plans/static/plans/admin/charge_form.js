/* The charge form: show only the chosen model's fields, add tier rows, and keep the live example
 * up to date. The example is priced by the server (charge/preview/); nothing here does money math. */
(function () {
    "use strict";

    function start() {
        var form = document.getElementById("charge_form");
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
        var tiersBox = document.getElementById("charge-tiers");
        var tierRows = document.getElementById("tier-rows");
        var exampleBox = document.getElementById("charge-example");
        var sentence = document.getElementById("example-sentence");
        var breakdown = document.getElementById("example-breakdown");

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
            show(tiersBox, model === "graduated" || model === "volume");
            show(exampleBox, model !== "");
        }

        function renumber() {
            var number = 0;
            tierRows.querySelectorAll("tr.tier-row").forEach(function (row) {
                var removed = row.querySelector("input[name$='-DELETE']");
                number += removed && removed.checked ? 0 : 1;
                row.querySelector(".tier-number").textContent = removed && removed.checked ? "–" : String(number);
            });
        }

        function addTier() {
            var total = document.getElementById("id_tiers-TOTAL_FORMS");
            var index = parseInt(total.value, 10);
            var html = document.getElementById("tier-template").innerHTML.replace(/__prefix__/g, String(index));
            var rows = tierRows.querySelectorAll("tr.tier-row");
            var previous = rows.length ? rows[rows.length - 1] : null;
            tierRows.insertAdjacentHTML("beforeend", html);
            total.value = String(index + 1);
            // Start the new tier right after the previous one ends (whole units; no prices here).
            var previousEnd = previous ? previous.querySelector("input[name$='-to_value']").value.trim() : "";
            if (/^\d+$/.test(previousEnd)) {
                var start = (BigInt(previousEnd) + BigInt(1)).toString();
                document.getElementById("id_tiers-" + index + "-from_value").value = start;
            }
            renumber();
            var added = document.getElementById("id_tiers-" + index + "-to_value");
            if (added) {
                added.focus();
            }
            schedule();
        }

        var timer = null;
        var sequence = 0;

        function render(data) {
            var body = breakdown.querySelector("tbody");
            body.textContent = "";
            if (!data.ok) {
                sentence.className = "plans-example-problem";
                sentence.textContent = "No example yet: " + (data.errors || []).join(" ");
                breakdown.hidden = true;
                return;
            }
            sentence.className = "";
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

        function refresh() {
            if (!exampleBox || !selectedModel()) {
                return;
            }
            var mine = ++sequence;
            fetch(exampleBox.dataset.previewUrl, {
                method: "POST",
                body: new FormData(form),
                credentials: "same-origin",
                headers: {"X-Requested-With": "XMLHttpRequest"}
            }).then(function (response) {
                return response.json();
            }).then(function (data) {
                if (mine === sequence) {
                    render(data);
                }
            }).catch(function () {
                if (mine === sequence) {
                    sentence.className = "plans-example-problem";
                    sentence.textContent = "The example could not be computed.";
                }
            });
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
                renumber();
            }
            schedule();
        });
        var addButton = document.getElementById("add-tier");
        if (addButton) {
            addButton.addEventListener("click", addTier);
        }
        toggle();
        refresh();
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}());
