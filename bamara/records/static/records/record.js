// The record page: keyboard behaviour of the terminology comboboxes (ARIA 1.2 combobox with
// a listbox filled by htmx from the local terminology tables), and focus after htmx swaps.
// Everything works without this file: the inputs accept codes typed by hand.
(function () {
  "use strict";

  function listOf(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function optionsOf(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]')) : [];
  }

  function close(input) {
    var list = listOf(input);
    if (list) { list.hidden = true; }
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function activate(input, option) {
    optionsOf(listOf(input)).forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }

  function choose(input, option) {
    var value = option.getAttribute("data-value");
    if (input.hasAttribute("data-multiple")) {
      var tokens = input.value.split(";").map(function (t) { return t.trim(); }).filter(Boolean);
      tokens.pop();
      tokens.push(value);
      input.value = tokens.join("; ") + "; ";
    } else {
      input.value = value;
      var choice = document.getElementById(input.id + "-choice");
      if (choice) { choice.textContent = option.getAttribute("data-label"); }
    }
    close(input);
    input.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.getAttribute && target.getAttribute("role") === "listbox") {
      var input = document.querySelector('[aria-controls="' + target.id + '"]');
      if (!input) { return; }
      if (optionsOf(target).length && document.activeElement === input) {
        target.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close(input);
      }
    }
  });

  // After a section is swapped (form opened, saved or cancelled), move the focus into it so
  // that keyboard and screen-reader users follow the change.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute || !target.hasAttribute("data-section")) {
      if (target && target.id === "section-activites") { target = document.getElementById("section-activites"); }
      else { return; }
    }
    var section = document.getElementById(target.id) || target;
    var alert = section.querySelector('[role="alert"]');
    var first = section.querySelector("form .fr-input--error, form .fr-select--error, form input:not([type=hidden]):not([disabled]), form select:not([disabled]), form textarea:not([disabled])");
    var heading = section.querySelector("h2");
    (alert || (section.querySelector("form:not(.bamara-quick)") ? first : null) || heading || section).focus();
  });

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('input[role="combobox"]')) { return; }
    var list = listOf(input);
    var options = optionsOf(list);
    var open = input.getAttribute("aria-expanded") === "true";
    var current = document.getElementById(input.getAttribute("aria-activedescendant") || "");
    var index = options.indexOf(current);
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      if (!open) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
      activate(input, options[Math.min(index + 1, options.length - 1)]);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      activate(input, options[Math.max(index - 1, 0)]);
    } else if (event.key === "Enter" && open && current) {
      event.preventDefault();
      choose(input, current);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close(input);
    }
  });

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest('[role="option"]');
    if (!option) { return; }
    var list = option.closest('[role="listbox"]');
    var input = document.querySelector('[aria-controls="' + list.id + '"]');
    if (input) { event.preventDefault(); choose(input, option); }
  });

  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input.matches && input.matches('input[role="combobox"]')) {
      window.setTimeout(function () { if (document.activeElement !== input) { close(input); } }, 150);
    }
  });
})();
