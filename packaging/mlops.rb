# Homebrew formula for mlops (brew install --build-from-source ./mlops.rb).
class Mlops < Formula
  desc "Command-line MLOps toolkit for tabular models"
  homepage "https://example.org/mlops"
  url "https://example.org/mlops/releases/mlops-0.1.0.tar.gz"
  # Fill in when the release tarball is published: shasum -a 256 mlops-0.1.0.tar.gz
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "MIT"

  head do
    url "https://example.org/mlops.git", branch: "main"
    depends_on "autoconf" => :build
    depends_on "automake" => :build
  end

  depends_on "pkgconf" => :build
  depends_on "cjson"
  depends_on "libarchive"
  depends_on "libgit2"
  depends_on "openblas"
  depends_on "sqlite"

  def install
    system "autoreconf", "-fi" if build.head?
    system "./configure", *std_configure_args,
           "--with-bash-completion-dir=#{bash_completion}"
    system "make"
    system "make", "install", "zshcompdir=#{zsh_completion}",
           "fishcompdir=#{fish_completion}"
  end

  test do
    system bin/"mlops", "--version"
    system bin/"mlops", "init"
    assert_predicate testpath/".mlops/registry.db", :exist?
  end
end
