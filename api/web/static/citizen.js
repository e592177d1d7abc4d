// Progressive enhancement for the citizen pages; every page works without this file.
// 1. "Salin tautan": copy the status link. 2. Regencies follow the chosen province at once.
(function () {
  "use strict";

  function copyLink(button) {
    var input = document.getElementById(button.dataset.copy);
    var status = button.parentNode.parentNode.querySelector(".copy-status");
    function say(text) { if (status) { status.textContent = text; } }
    function fallback() {
      input.focus();
      input.select();
      try {
        say(document.execCommand("copy") ? button.dataset.done : button.dataset.failed);
      } catch (e) {
        say(button.dataset.failed);
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { say(button.dataset.done); }, fallback);
    } else {
      fallback();
    }
  }

  function followProvince(province) {
    var regency = document.getElementById("regency");
    if (!regency) { return; }
    var first = regency.options[0];
    province.addEventListener("change", function () {
      regency.length = 1;
      regency.value = "";
      first.selected = true;
      if (!province.value) { return; }
      fetch(province.dataset.regions + "?parent=" + encodeURIComponent(province.value), {
        headers: { Accept: "application/json" }
      }).then(function (answer) {
        return answer.ok ? answer.json() : [];
      }).then(function (regions) {
        regions.forEach(function (region) {
          regency.add(new Option(region.name, region.code));
        });
      }).catch(function () { /* the "Tampilkan kabupaten/kota" button still works */ });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button.copy").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copyLink(button); });
    });
    var province = document.getElementById("province");
    if (province && province.dataset.regions && window.fetch) {
      document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
      followProvince(province);
    }
    var search = document.getElementById("instansi_q");
    var searchButton = document.getElementById("instansi-search");
    if (search && searchButton) {
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); searchButton.click(); }
      });
    }
  });
})();
