<?xml version="1.0" encoding="utf-8"?>
<!-- Shows an Atom feed as a page when a browser opens it: what it is, how to use it, and its
     entries as links. Feed readers ignore this. No script, no inline style (the CSP). Its words
     come from the feed itself, in the reader's language (page:words, issues/opendata/atom.py),
     so one static file serves every language. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:page="urn:civicfix:feed-page">
  <xsl:output method="html" encoding="utf-8" indent="yes"/>
  <xsl:template match="/atom:feed">
    <html lang="{page:words/@lang}" dir="{page:words/@dir}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="page:words/page:title"/></title>
        <link rel="stylesheet" href="/static/css/site.css"/>
      </head>
      <body>
        <main id="main" class="container">
          <p class="callout"><xsl:value-of select="page:words/page:intro"/></p>
          <h1><xsl:value-of select="atom:title"/></h1>
          <p><xsl:value-of select="atom:subtitle"/> ·
            <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="page:words/page:open"/></a></p>
          <xsl:choose>
            <xsl:when test="atom:entry">
              <ol class="issue-list">
                <xsl:for-each select="atom:entry">
                  <li>
                    <a href="{atom:link/@href}"><xsl:value-of select="atom:title"/></a>
                    <br/><small><xsl:value-of select="substring(atom:updated, 1, 16)"/></small>
                    <xsl:if test="atom:summary">
                      <p><xsl:value-of select="atom:summary"/></p>
                    </xsl:if>
                  </li>
                </xsl:for-each>
              </ol>
            </xsl:when>
            <xsl:otherwise><p><xsl:value-of select="page:words/page:empty"/></p></xsl:otherwise>
          </xsl:choose>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
