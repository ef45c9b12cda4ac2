/* The override form: show the parts for the kind of override chosen (the price editor itself is
 * charge_form.js, shared with the charge form). */
(function () {
    "use strict";

    function start() {
        var form = document.getElementById("override_form");
        if (!form) {
            return;
        }
        function toggle() {
            var checked = form.querySelector("input[name=kind]:checked");
            var kind = checked ? checked.value : "";
            form.querySelectorAll(".override-part[data-kinds]").forEach(function (part) {
                part.hidden = part.dataset.kinds.split(" ").indexOf(kind) < 0;
            });
        }
        form.addEventListener("change", function (event) {
            if (event.target.name === "kind") {
                toggle();
            }
        });
        toggle();
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}());
