// cram serve: keyboard shortcuts. Every page works without this script.
//   /            focus the search box
//   Ctrl+Enter   (drill question) show the answer
//   1-4          (drill answer) grade: again, hard, good, easy
//   s            (drill) skip
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("keydown", function (e) {
  var t = e.target;
  var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable);
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    var reveal = document.querySelector("form.reveal");
    if (reveal) {
      e.preventDefault();
      reveal.requestSubmit ? reveal.requestSubmit() : reveal.submit();
    }
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) {
    return;
  }
  if (e.key === "/") {
    var box = document.querySelector("header.top input[name=q]");
    if (box) {
      e.preventDefault();
      box.focus();
      box.select();
    }
    return;
  }
  if (/^[1-4]$/.test(e.key)) {
    var button = document.querySelector("form.grade button[value='" + e.key + "']");
    if (button) {
      e.preventDefault();
      button.click();
    }
    return;
  }
  if (e.key === "s") {
    var skip = document.querySelector("section.drill a[href^='/drill?skip=']");
    if (skip) {
      e.preventDefault();
      skip.click();
    }
  }
});
